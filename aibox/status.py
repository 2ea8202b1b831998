"""The ``processing:status:{file_id}`` record: what a user sees of a file's processing.

The shape keeps the old system's field names: top-level ``file_id``, ``status``
(queued/processing/completed/failed), ``progress`` (0–100), ``message``, plus ``stage``,
``job_id`` and ``updated_at``; and one record per stage — ``chunking``, ``vectorization``,
``storage``, ``kg_extraction`` — each with ``status``, ``progress``, ``message`` and counts
(``chunk_count``, ``vector_count``, ``entities_count``…) or ``error``.

It is stored as a Redis hash whose fields are flattened (``chunking.status``) and whose values
are JSON, so every update is a single atomic HSET of the changed fields: the API and a worker
never overwrite each other's changes the way a read-modify-write of one JSON string does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any, cast

import redis

from aibox import keys
from aibox.connections import HashMapping

STAGES: tuple[str, ...] = ("chunking", "vectorization", "storage", "kg_extraction")


class StatusStore:
    """Reads and atomically updates processing status records."""

    def __init__(self, client: redis.Redis, ttl_s: int) -> None:
        self.client = client
        self.ttl_s = ttl_s

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
        raw = cast(dict[str, str], self.client.hgetall(keys.processing_status(file_id)))
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

    def _write(self, file_id: str, fields: Mapping[str, Any]) -> None:
        key = keys.processing_status(file_id)
        encoded: HashMapping = {k: json.dumps(v, ensure_ascii=False) for k, v in fields.items()}
        encoded["updated_at"] = json.dumps(time.time())
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(key, mapping=encoded)
        pipe.expire(key, self.ttl_s)
        pipe.execute()


def _drop_nulls(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in record.items():
        if isinstance(v, dict):
            out[k] = {kk: vv for kk, vv in v.items() if vv is not None}
        elif v is not None:
            out[k] = v
    return out
