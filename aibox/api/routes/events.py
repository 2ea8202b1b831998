"""Live progress of a file as Server-Sent Events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import anyio
import redis.asyncio
from fastapi import APIRouter
from fastapi.sse import EventSourceResponse

from aibox.api.deps import OwnedFile, SettingsDep
from aibox.api.errors import ERROR_RESPONSES
from aibox.api.schemas import ProcessingStatus
from aibox.store.status import FINAL_STATUSES, settled_status, watch_status

router = APIRouter(prefix="/files", tags=["files"])

# Errors are JSON envelopes, not events: without this FastAPI documents them as event streams.
_JSON_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": response["description"],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
    }
    for status, response in ERROR_RESPONSES.items()
}


@router.get("/{file_id}/events", response_class=EventSourceResponse, responses=_JSON_ERRORS)
async def file_events(record: OwnedFile, settings: SettingsDep) -> AsyncIterator[ProcessingStatus]:
    """The file's processing status now and at each change, until its job ends (SSE)."""
    # Its own client: a subscribed connection serves nothing else, and this one is async so a
    # waiting stream holds no threadpool thread. FastAPI adds a ": ping" after 15 s idle.
    client = redis.asyncio.Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        async with aclosing(watch_status(client, record.file_id)) as changes:
            first = True
            async for status in changes:
                if status is None and not first:
                    return  # the status record was deleted, with the file
                current = status or settled_status(record)
                first = False
                yield ProcessingStatus.model_validate(current)
                if current["status"] in FINAL_STATUSES:
                    return
    finally:
        with anyio.CancelScope(shield=True):
            await client.aclose()
