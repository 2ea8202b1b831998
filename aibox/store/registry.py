"""The job registry: one record per submitted job, indexed per queue and state.

Celery's result backend only knows a task once it has stored a state, and reports an unknown
id as PENDING. The registry knows every job from the moment it is published, so a job that
never existed reads as not found, and listings per queue and state (what RQ's registries gave)
need no ``KEYS`` scan: each state is a sorted set scored by the time the job entered it.

It is written from Celery signals (``aibox/signals.py``), in the publishing process and in the
worker. Each transition is one Lua script (``aibox/store/transitions.py``: one round trip,
atomic), so a job is always in exactly one state set. The task's arguments are kept (as JSON)
so that an operator can queue a failed job again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

import redis
from pydantic import BaseModel, Field, field_validator

from aibox import keys
from aibox.errors import QueueLimitError
from aibox.queues import QUEUES
from aibox.store.transitions import (
    CLAIM,
    END,
    JOB_STATES,
    PUBLISH,
    RETRYING,
    START,
    JobState,
    transition,
)

__all__ = [
    "JOB_STATES",
    "JobRecord",
    "JobRegistry",
    "JobState",
    "UserQueued",
    "recorded_by_publisher",
]

#: The id of the job being published by a caller that recorded it already
#: (:meth:`JobRegistry.claim`): the publish hook in ``aibox.signals`` leaves that job alone.
recorded_by_publisher: ContextVar[str | None] = ContextVar("aibox_recorded_job", default=None)


@dataclass(frozen=True)
class UserQueued:
    """One user's queued jobs on one queue."""

    user_id: str
    queue: str
    queued: int
    oldest_at: float  # when the longest-waiting of them was queued (epoch seconds)


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
    waits: int = 0  # times it waited for its file, held by another job (not retries)
    waiting_for: str | None = None
    worker: str | None = None
    error: str | None = None
    traceback: str | None = None
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    retry_of: str | None = None
    retried_as: str | None = None

    @field_validator("args", "kwargs", mode="before")
    @classmethod
    def _from_json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value


class JobRegistry:
    """Records job state transitions and answers lookups and listings."""

    def __init__(self, client: redis.Redis, retention_s: int) -> None:
        self.client = client
        self.retention_s = retention_s
        self._publish_script = client.register_script(PUBLISH)
        self._claim_script = client.register_script(CLAIM)
        self._start_script = client.register_script(START)
        self._end_script = client.register_script(END)
        self._retrying_script = client.register_script(RETRYING)

    def published(
        self,
        job_id: str,
        *,
        task: str,
        queue: str,
        file_id: str | None,
        user_id: str | None,
        args: Sequence[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        """Record a job as queued (first submission or a retry's republish)."""
        fields = _queued_fields(task, file_id, user_id, args, kwargs)
        script_keys, script_args = transition(
            job_id, queue, "queued", fields, self.retention_s, file_id=file_id
        )
        self._publish_script(keys=script_keys, args=script_args)

    def claim(
        self,
        job_id: str,
        *,
        task: str,
        queue: str,
        file_id: str,
        user_id: str | None,
        args: Sequence[Any],
        kwargs: dict[str, Any],
        limit: int = 0,
        retry_after_s: int = 60,
    ) -> tuple[str, str] | None:
        """Record a job for ``file_id`` as queued unless the file has a queued or started job.

        The check and the write are one atomic step, so of concurrent claims for one file
        exactly one wins. Returns None when the job was recorded (publish it, with
        :data:`recorded_by_publisher` set so that the publish hook does not write it again),
        else the (job id, state) of the file's active job, and nothing was written. With a
        ``limit`` (> 0), a user who has that many jobs queued (all queues together) is
        refused in the same step: :class:`QueueLimitError` (saying to come back in
        ``retry_after_s``), and nothing was written.
        """
        fields = _queued_fields(task, file_id, user_id, args, kwargs)
        script_keys, script_args = transition(
            job_id, queue, "queued", fields, self.retention_s, file_id=file_id, limit=limit
        )
        found = self._claim_script(keys=script_keys, args=script_args)
        if found == 1:
            return None
        if found[1] == "limit":
            raise QueueLimitError.reached(int(found[2]), limit, retry_after_s)
        return str(found[0]), str(found[1])

    def started(self, job_id: str, *, queue: str, task: str, worker: str | None) -> None:
        """Record that a worker began executing the job."""
        now = time.time()
        fields = {"task": task, "started_at": now, "worker": worker, "ended_at": None}
        script_keys, script_args = transition(
            job_id, queue, "started", fields, self.retention_s, now=now
        )
        self._start_script(keys=script_keys, args=script_args)

    def finished(self, job_id: str, *, queue: str) -> None:
        """Record that the job succeeded (a retried job's last error and traceback go)."""
        now = time.time()
        self._end(job_id, queue, "finished", {"ended_at": now, "error": None, "traceback": None})

    def failed(self, job_id: str, *, queue: str, error: str, traceback: str | None) -> None:
        """Record that the job failed for good, with its error and traceback."""
        now = time.time()
        self._end(
            job_id, queue, "failed", {"ended_at": now, "error": error, "traceback": traceback}
        )

    def revoked(self, job_id: str, *, queue: str) -> None:
        """Record that the job was revoked."""
        self._end(job_id, queue, "revoked", {"ended_at": time.time()})

    def waited(self, job_id: str, *, holder: str | None) -> None:
        """Count a wait for the file another job (``holder``) holds; not a retry."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hincrby(keys.job(job_id), "waits", 1)
        pipe.hset(keys.job(job_id), "waiting_for", holder or "")
        pipe.expire(keys.job(job_id), self.retention_s)
        pipe.execute()

    def retrying(self, job_id: str, *, error: str) -> None:
        """Count a retry; the republished message has already put the job back in queued."""
        self._retrying_script(keys=[keys.job(job_id)], args=[error])

    def requeue(self, job_id: str) -> JobRecord | None:
        """Move a failed job back to queued for a retry under its own id; None if not failed."""
        fields = {"ended_at": None}
        return self._move_if(job_id, frozenset({"failed"}), "queued", fields, count_retry=True)

    def revoke_queued(self, job_id: str) -> bool:
        """Record a revoke of a job that is still queued; False if it has left that state."""
        fields = {"ended_at": time.time()}
        return self._move_if(job_id, frozenset({"queued"}), "revoked", fields) is not None

    def link_retry(self, job_id: str, new_job_id: str) -> bool:
        """Point a job at the new job that retries it; False if it was retried already."""
        if not self.client.hsetnx(keys.job(job_id), "retried_as", new_job_id):
            return False
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(keys.job(new_job_id), "retry_of", job_id)
        pipe.expire(keys.job(new_job_id), self.retention_s)
        pipe.execute()
        return True

    def get(self, job_id: str) -> JobRecord | None:
        """The job's record, or None if no such job was ever submitted (or it expired)."""
        data = cast(dict[str, str], self.client.hgetall(keys.job(job_id)))
        return _record(job_id, data)

    def get_many(self, job_ids: Iterable[str]) -> dict[str, JobRecord]:
        """The records of those ``job_ids`` that exist, in one round trip."""
        ids = list(job_ids)
        pipe = self.client.pipeline(transaction=False)
        for job_id in ids:
            pipe.hgetall(keys.job(job_id))
        found = zip(ids, cast(list[dict[str, str]], pipe.execute()), strict=True)
        return {job_id: r for job_id, data in found if (r := _record(job_id, data)) is not None}

    def page(
        self, queue: str, state: JobState, *, limit: int, after: tuple[float, str] | None = None
    ) -> list[tuple[str, float]]:
        """Up to ``limit`` (job id, score) pairs, most recent first, strictly after ``after``.

        ``after`` is the (score, id) of the last job of the previous page; ties on the score
        are ordered by id, as Redis orders them, so every job is visited exactly once.
        """
        key = keys.jobs_by_state(queue, state)
        top: float | str = "+inf"
        ties = 0
        if after is not None:
            top = after[0]
            ties = int(self.client.zcount(key, after[0], after[0]))
        rows = cast(
            list[tuple[str, float]],
            self.client.zrange(
                key,
                top,
                "-inf",
                desc=True,
                byscore=True,
                offset=0,
                num=limit + ties,
                withscores=True,
            ),
        )
        if after is not None:
            rows = [(m, s) for m, s in rows if s < after[0] or m < after[1]]
        return rows[:limit]

    def job_ids(
        self, queue: str, state: JobState, *, offset: int = 0, limit: int = 50
    ) -> list[str]:
        """Job ids in one queue and state, most recent first."""
        key = keys.jobs_by_state(queue, state)
        return cast(list[str], self.client.zrevrange(key, offset, offset + limit - 1))

    def all_ids(self, queue: str, state: JobState) -> list[str]:
        """Every job id in one queue and state, oldest first."""
        return cast(list[str], self.client.zrange(keys.jobs_by_state(queue, state), 0, -1))

    def jobs_of_file(self, file_id: str) -> list[JobRecord]:
        """Every job still on record for a file, oldest first."""
        ids = cast(set[str], self.client.smembers(keys.file_jobs(file_id)))
        records = [r for r in (self.get(job_id) for job_id in ids) if r is not None]
        return sorted(records, key=lambda r: r.created_at or 0.0)

    def forget_file(self, file_id: str) -> None:
        """Drop the file's job index (the job records themselves expire with retention)."""
        self.client.delete(keys.file_jobs(file_id))

    def queued_of_user(self, user_id: str, queue: str | None = None) -> int:
        """How many jobs ``user_id`` has queued on ``queue`` (all queues if None)."""
        names = [queue] if queue else list(QUEUES)
        pipe = self.client.pipeline(transaction=False)
        for name in names:
            pipe.zcard(keys.user_queued(name, user_id))
        return sum(cast(list[int], pipe.execute()))

    def queued_by_user(self, queue: str) -> list[UserQueued]:
        """Each user with jobs queued on ``queue``: how many, and since when the oldest waits;
        the longest-waiting first."""
        users = sorted(cast(set[str], self.client.smembers(keys.queued_users(queue))))
        pipe = self.client.pipeline(transaction=False)
        for user in users:
            pipe.zcard(keys.user_queued(queue, user))
            pipe.zrange(keys.user_queued(queue, user), 0, 0, withscores=True)
        replies = iter(pipe.execute())
        found = []
        for user in users:
            count, oldest = int(next(replies)), cast(list[tuple[str, float]], next(replies))
            if count and oldest:
                found.append(UserQueued(user, queue, count, float(oldest[0][1])))
        return sorted(found, key=lambda u: (u.oldest_at, u.user_id))

    def counts(self, queue: str) -> dict[JobState, int]:
        """How many jobs of ``queue`` are in each state, in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        for state in JOB_STATES:
            pipe.zcard(keys.jobs_by_state(queue, state))
        return dict(zip(JOB_STATES, cast(list[int], pipe.execute()), strict=True))

    def count(self, queue: str, state: JobState) -> int:
        """How many jobs of ``queue`` are in ``state``."""
        return int(self.client.zcard(keys.jobs_by_state(queue, state)))

    def _move_if(
        self,
        job_id: str,
        expected: frozenset[str],
        state: JobState,
        fields: dict[str, Any],
        *,
        count_retry: bool = False,
    ) -> JobRecord | None:
        key = keys.job(job_id)
        with self.client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]
                    record = _record(job_id, cast(dict[str, str], pipe.hgetall(key)))
                    if record is None or record.state not in expected:
                        return None
                    pipe.multi()
                    self._end(job_id, record.queue, state, fields, client=pipe)
                    if count_retry:
                        pipe.hincrby(key, "retries", 1)
                    pipe.execute()
                    return record
                except redis.WatchError:
                    continue

    def _end(
        self,
        job_id: str,
        queue: str,
        state: JobState,
        fields: dict[str, Any],
        *,
        client: redis.Redis | redis.client.Pipeline | None = None,
    ) -> bool:
        """Move a known job to ``state``; False if the registry does not know it (one EVALSHA,
        or queued on ``client`` if that is a pipeline, whose result is then not known yet)."""
        script_keys, script_args = transition(job_id, queue, state, fields, self.retention_s)
        return bool(self._end_script(keys=script_keys, args=script_args, client=client))


def _queued_fields(
    task: str,
    file_id: str | None,
    user_id: str | None,
    args: Sequence[Any] | None,
    kwargs: dict[str, Any] | None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {"task": task, "file_id": file_id, "user_id": user_id}
    if args is not None or kwargs is not None:
        fields["args"] = json.dumps(list(args or ()), ensure_ascii=False, default=str)
        fields["kwargs"] = json.dumps(kwargs or {}, ensure_ascii=False, default=str)
    return fields


def _record(job_id: str, data: dict[str, str]) -> JobRecord | None:
    if not data or "state" not in data:
        return None
    return JobRecord.model_validate(
        {"job_id": job_id, **{k: v for k, v in data.items() if v != ""}}
    )
