"""The job registry: one record per submitted job, indexed per queue and state.

Celery's result backend only knows a task once it has stored a state, and reports an unknown
id as PENDING. The registry knows every job from the moment it is published, so a job that
never existed reads as not found, and listings per queue and state (what RQ's registries gave)
need no ``KEYS`` scan: each state is a sorted set scored by the time the job entered it.

It is written from Celery signals (``aibox/signals.py``), in the publishing process and in the
worker, each transition one MULTI/EXEC so a job is always in exactly one state set.
"""

from __future__ import annotations

import time
from typing import Any, Literal, cast

import redis
from pydantic import BaseModel

from aibox import keys
from aibox.connections import HashMapping

JobState = Literal["queued", "started", "finished", "failed", "revoked"]
JOB_STATES: tuple[JobState, ...] = ("queued", "started", "finished", "failed", "revoked")
TERMINAL_STATES: frozenset[str] = frozenset({"finished", "failed", "revoked"})


class JobRecord(BaseModel):
    """What the registry knows about one job."""

    job_id: str
    task: str
    queue: str
    state: JobState
    file_id: str | None = None
    user_id: str | None = None
    created_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    retries: int = 0
    worker: str | None = None
    error: str | None = None
    traceback: str | None = None


class JobRegistry:
    """Records job state transitions and answers lookups and listings."""

    def __init__(self, client: redis.Redis, retention_s: int) -> None:
        self.client = client
        self.retention_s = retention_s

    def published(
        self, job_id: str, *, task: str, queue: str, file_id: str | None, user_id: str | None
    ) -> None:
        """Record a job as queued (first submission or a retry's republish)."""
        now = time.time()
        fields: dict[str, Any] = {"task": task, "file_id": file_id, "user_id": user_id}
        pipe = self.client.pipeline(transaction=True)
        pipe.hsetnx(keys.job(job_id), "created_at", now)
        self._transition(pipe, job_id, queue, "queued", now, fields)
        if file_id:
            pipe.sadd(keys.file_jobs(file_id), job_id)
            pipe.expire(keys.file_jobs(file_id), self.retention_s)
        pipe.execute()

    def started(self, job_id: str, *, queue: str, task: str, worker: str | None) -> None:
        """Record that a worker began executing the job."""
        now = time.time()
        fields = {"task": task, "started_at": now, "worker": worker, "ended_at": None}
        self._run(job_id, queue, "started", now, fields)

    def finished(self, job_id: str, *, queue: str) -> None:
        """Record that the job succeeded."""
        now = time.time()
        self._run(job_id, queue, "finished", now, {"ended_at": now, "error": None})

    def failed(self, job_id: str, *, queue: str, error: str, traceback: str | None) -> None:
        """Record that the job failed for good, with its error and traceback."""
        now = time.time()
        fields = {"ended_at": now, "error": error, "traceback": traceback}
        self._run(job_id, queue, "failed", now, fields)

    def revoked(self, job_id: str, *, queue: str) -> None:
        """Record that the job was revoked."""
        now = time.time()
        self._run(job_id, queue, "revoked", now, {"ended_at": now})

    def retrying(self, job_id: str, *, error: str) -> None:
        """Count a retry; the republished message has already put the job back in queued."""
        pipe = self.client.pipeline(transaction=True)
        pipe.hincrby(keys.job(job_id), "retries", 1)
        pipe.hset(keys.job(job_id), "error", error)
        pipe.execute()

    def get(self, job_id: str) -> JobRecord | None:
        """The job's record, or None if no such job was ever submitted (or it expired)."""
        data = cast(dict[str, str], self.client.hgetall(keys.job(job_id)))
        if not data or "state" not in data:
            return None
        return JobRecord.model_validate(
            {"job_id": job_id, **{k: v for k, v in data.items() if v != ""}}
        )

    def job_ids(
        self, queue: str, state: JobState, *, offset: int = 0, limit: int = 50
    ) -> list[str]:
        """Job ids in one queue and state, most recent first."""
        key = keys.jobs_by_state(queue, state)
        return cast(list[str], self.client.zrevrange(key, offset, offset + limit - 1))

    def jobs_of_file(self, file_id: str) -> list[JobRecord]:
        """Every job still on record for a file, oldest first."""
        ids = cast(set[str], self.client.smembers(keys.file_jobs(file_id)))
        records = [r for r in (self.get(job_id) for job_id in ids) if r is not None]
        return sorted(records, key=lambda r: r.created_at or 0.0)

    def forget_file(self, file_id: str) -> None:
        """Drop the file's job index (the job records themselves expire with retention)."""
        self.client.delete(keys.file_jobs(file_id))

    def count(self, queue: str, state: JobState) -> int:
        """How many jobs of ``queue`` are in ``state``."""
        return int(self.client.zcard(keys.jobs_by_state(queue, state)))

    def _run(
        self, job_id: str, queue: str, state: JobState, now: float, fields: dict[str, Any]
    ) -> None:
        pipe = self.client.pipeline(transaction=True)
        self._transition(pipe, job_id, queue, state, now, fields)
        pipe.execute()

    def _transition(
        self,
        pipe: redis.client.Pipeline,
        job_id: str,
        queue: str,
        state: JobState,
        now: float,
        fields: dict[str, Any],
    ) -> None:
        values: HashMapping = {k: "" if v is None else str(v) for k, v in fields.items()}
        pipe.hset(keys.job(job_id), mapping={**values, "queue": queue, "state": state})
        pipe.expire(keys.job(job_id), self.retention_s)
        for other in JOB_STATES:
            if other != state:
                pipe.zrem(keys.jobs_by_state(queue, other), job_id)
        pipe.zadd(keys.jobs_by_state(queue, state), {job_id: now})
        if state in TERMINAL_STATES:
            pipe.zremrangebyscore(keys.jobs_by_state(queue, state), "-inf", now - self.retention_s)
