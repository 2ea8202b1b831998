"""Liveness of the API and its Redis server."""

from __future__ import annotations

import redis
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from aibox.api.schemas import Envelope, HealthPublic
from aibox.connections import get_redis

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Envelope[HealthPublic], responses={503: {}})
def health() -> JSONResponse:
    """200 when Redis answers, 503 (same envelope) when it does not."""
    try:
        get_redis().ping()
    except redis.RedisError as exc:
        body = Envelope(
            success=False,
            message="Redis is unreachable",
            data=HealthPublic(status="unavailable", redis=False, detail=str(exc)),
        )
        return JSONResponse(status_code=503, content=body.model_dump())
    body = Envelope(message="ok", data=HealthPublic(status="ok", redis=True))
    return JSONResponse(content=body.model_dump())
