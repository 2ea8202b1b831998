"""Every error leaves the API in the envelope, with a stable code and a human message."""

from __future__ import annotations

import logging
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from kombu.exceptions import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from aibox.api.schemas import ErrorEnvelope
from aibox.errors import AiboxError

logger = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "file_too_large",
    415: "unsupported_file_type",
    422: "validation_error",
    429: "too_many_queued_jobs",
    503: "service_unavailable",
}


#: Error responses every operation may give, documented once for the whole API.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": description}
    for status, description in {
        400: "the request body could not be parsed",
        401: "missing, invalid, expired or logged-out token",
        403: "the operation needs the admin role",
        404: "no such resource for this user",
        409: "conflicts with the current state",
        413: "file or request too large",
        415: "unsupported file type",
        422: "the request is not valid",
        429: "the user has the most queued jobs allowed (AIBOX_MAX_QUEUED_JOBS_PER_USER); "
        "try again after Retry-After seconds",
        503: "Redis (the job store) is unavailable",
    }.items()
}


def error_response(status: int, code: str, message: str, data: object = None) -> JSONResponse:
    """An error envelope."""
    body = {"success": False, "code": code, "message": message, "data": data}
    return JSONResponse(status_code=status, content=body)


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    """Map aibox's exceptions, validation errors and Redis outages onto envelopes."""

    @app.exception_handler(AiboxError)
    async def _aibox(_: Request, exc: AiboxError) -> JSONResponse:
        # Each class carries its answer (aibox/errors.py): status, stable code, headers.
        if exc.status >= 500:
            logger.error("%s: %s", type(exc).__name__, exc)
        response = error_response(exc.status, exc.code, exc.public_message(), exc.data)
        response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return error_response(422, "validation_error", "the request is not valid", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        response = error_response(exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names only the first route matching the path; list every one's methods.
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response

    # Only an unreachable or loading server is "unavailable"; any other Redis error is a bug
    # and stays a 500 with its traceback in the log.
    @app.exception_handler(redis.ConnectionError)
    @app.exception_handler(redis.TimeoutError)
    @app.exception_handler(redis.BusyLoadingError)
    @app.exception_handler(OperationalError)
    async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
        logger.error("storage or broker unavailable: %s", exc)
        return error_response(
            503, "service_unavailable", "the job store (Redis) is unavailable; try again shortly"
        )
