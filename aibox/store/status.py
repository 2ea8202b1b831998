"""The ``processing:status:{file_id}`` record: what a user sees of a file's processing.

The shape keeps the old system's field names: top-level ``file_id``, ``status``
(queued/processing/completed/failed), ``progress`` (0–100), ``message``, plus ``stage``,
``job_id`` and ``updated_at``; and one record per stage — ``chunking``, ``vectorization``,
``storage``, ``kg_extraction`` — each with ``status``, ``progress``, ``message`` and counts
(``chunk_count``, ``vector_count``, ``entities_count``…) or ``error``.

It is stored as a Redis hash whose fields are flattened (``chunking.status``) and whose values
are JSON, so every update is a single atomic HSET of the changed fields: the API and a worker
never overwrite each other's changes the way a read-modify-write of one JSON string does.

Every write also PUBLISHes a small notice on ``aibox:status:{file_id}`` in the same MULTI, so
live readers (the SSE endpoint) are pushed each change instead of polling. Pub/sub ignores the
database number: the notice carries only the file id and the new overall status.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, Awaitable, Iterable, Mapping
from typing import Any, cast

import anyio
import redis
import redis.asyncio

from aibox import keys
from aibox.connections import HashMapping
from aibox.store.files import FileRecord

STAGES: tuple[str, ...] = ("chunking", "vectorization", "storage", "kg_extraction")
#: Overall statuses after which a job changes nothing more.
FINAL_STATUSES = frozenset({"completed", "failed"})


# KEYS: the status hash, its channel; ARGV: TTL (s), the notice, then field/value pairs.
_WRITE = """
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('PUBLISH', KEYS[2], ARGV[2])
return 1
"""


class StatusStore:
    """Reads and atomically updates processing status records."""

    def __init__(self, client: redis.Redis, ttl_s: int) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self._write_script = client.register_script(_WRITE)

    def queued(self, file_id: str, job_id: str, stages: Iterable[str] = STAGES) -> None:
        """Mark a file as queued for a job that will run ``stages`` (their records reset)."""
        fields: dict[str, Any] = {
            "file_id": file_id,
            "job_id": job_id,
            "status": "queued",
            "stage": "queued",
            "progress": 0,
            "message": "waiting for a worker",
            "error": None,
        }
        for stage in stages:
            fields.update({f"{stage}.status": "pending", f"{stage}.progress": 0})
            fields.update({f"{stage}.{k}": None for k in ("message", "error")})
        self._write(file_id, fields)

    def update(
        self,
        file_id: str,
        *,
        status: str | None = None,
        stage: str | None = None,
        progress: int | None = None,
        message: str | None = None,
        error: str | None = None,
        stages: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Set the given top-level fields and per-stage fields in one atomic write."""
        fields: dict[str, Any] = {}
        for name, value in (
            ("status", status),
            ("stage", stage),
            ("progress", progress),
            ("message", message),
            ("error", error),
        ):
            if value is not None:
                fields[name] = value
        for stage_name, values in (stages or {}).items():
            if stage_name not in STAGES:
                raise ValueError(f"unknown stage {stage_name!r}")
            fields.update({f"{stage_name}.{k}": v for k, v in values.items()})
        self._write(file_id, fields)

    def get(self, file_id: str) -> dict[str, Any] | None:
        """The status record in the old nested shape, or None if there is none."""
        return decode_status(
            cast(dict[str, str], self.client.hgetall(keys.processing_status(file_id)))
        )

    def forget(self, file_id: str) -> None:
        """Delete a file's status record, telling live readers it is gone."""
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(keys.processing_status(file_id))
        pipe.publish(keys.status_channel(file_id), _notice(file_id, "deleted"))
        pipe.execute()

    def _write(self, file_id: str, fields: Mapping[str, Any]) -> None:
        key = keys.processing_status(file_id)
        encoded: HashMapping = {k: json.dumps(v, ensure_ascii=False) for k, v in fields.items()}
        encoded["updated_at"] = json.dumps(time.time())
        # A write after the record expired or was deleted re-creates it: keep it well-formed.
        encoded["file_id"] = json.dumps(file_id)
        args: list[str | int] = [self.ttl_s, _notice(file_id, fields.get("status"))]
        args += [x for pair in encoded.items() for x in pair]
        self._write_script(keys=[key, keys.status_channel(file_id)], args=args)


def decode_status(raw: Mapping[str, str]) -> dict[str, Any] | None:
    """The nested record from the hash's flattened JSON fields, or None for an empty hash."""
    if not raw:
        return None
    record: dict[str, Any] = {s: {"status": "pending", "progress": 0} for s in STAGES}
    for field, encoded in raw.items():
        value = json.loads(encoded)
        head, _, tail = field.partition(".")
        if tail:
            record.setdefault(head, {})[tail] = value
        else:
            record[head] = value
    return _drop_nulls(record)


def settled_status(record: FileRecord) -> dict[str, Any]:
    """A status record rebuilt from the file record, for when the status record has expired."""
    done = record.status == "completed"
    stage = {"status": record.status, "progress": 100 if done else 0}
    return {
        "file_id": record.file_id,
        "status": record.status,
        "progress": 100 if done else 0,
        "message": record.error,
        "job_id": record.job_id,
        **dict.fromkeys(STAGES, stage),
    }


async def watch_status(
    client: redis.asyncio.Redis, file_id: str
) -> AsyncGenerator[dict[str, Any] | None, None]:
    """The status record now and after each change, pushed by the writers' PUBLISH."""
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(keys.status_channel(file_id))
        # Read only once the subscription is confirmed, so no change slips in between.
        await _next_message(pubsub, "subscribe")
        last: dict[str, Any] | None = None
        first = True
        while True:
            raw = await cast(
                Awaitable[dict[str, str]], client.hgetall(keys.processing_status(file_id))
            )
            current = decode_status(raw)
            if first or current != last:
                yield current
            first, last = False, current
            await _next_message(pubsub, "message")
            while await pubsub.get_message(timeout=0.0) is not None:
                pass  # a burst of changes: one read shows the latest
    finally:
        with anyio.CancelScope(shield=True):
            await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]


async def _next_message(pubsub: redis.asyncio.client.PubSub, kind: str) -> None:
    while True:
        message = await pubsub.get_message(timeout=None)
        if message is not None and message["type"] == kind:
            return


def _notice(file_id: str, status: object) -> str:
    return json.dumps({"file_id": file_id, "status": status})


def _drop_nulls(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in record.items():
        if isinstance(v, dict):
            out[k] = {kk: vv for kk, vv in v.items() if vv is not None}
        elif v is not None:
            out[k] = v
    return out
