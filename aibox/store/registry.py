"""The job registry: one record per submitted job, indexed per queue and state.

Celery's result backend only knows a task once it has stored a state, and reports an unknown
id as PENDING. The registry knows every job from the moment it is published, so a job that
never existed reads as not found, and listings per queue and state (what RQ's registries gave)
need no ``KEYS`` scan: each state is a sorted set scored by the time the job entered it.

It is written from Celery signals (``aibox/signals.py``), in the publishing process and in the
worker. Each transition is one Lua script (one round trip, atomic), so a job is always in
exactly one state set; these writes run for every job, in the worker's hot path, so they are
kept to a single ``EVALSHA``. The task's arguments are kept (as JSON) so that an operator can
queue a failed job again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal, cast

import redis
from pydantic import BaseModel, Field, field_validator

from aibox import keys
from aibox.errors import QueueLimitError
from aibox.queues import QUEUES

JobState = Literal["queued", "started", "finished", "failed", "revoked"]
JOB_STATES: tuple[JobState, ...] = ("queued", "started", "finished", "failed", "revoked")
TERMINAL_STATES: frozenset[str] = frozenset({"finished", "failed", "revoked"})

#: The id of the job being published by a caller that recorded it already
#: (:meth:`JobRegistry.claim`): the publish hook in ``aibox.signals`` leaves that job alone.
recorded_by_publisher: ContextVar[str | None] = ContextVar("aibox_recorded_job", default=None)

# The transitions, one Lua script each (one round trip, atomic). Every script takes the same
# KEYS — the job's hash, the new state's set, the other states' sets, and for a publish or a
# claim the file's job set last — and ARGV — job id, now, retention (s), "1" to trim the new
# state's set of entries older than the retention, the queue's queued set (the users' queued
# sets are named after it, see keys.user_queued), the per-user limit of queued jobs (claims
# only; 0: none), the queued sets of every queue separated by spaces (for that limit), then
# the hash's field/value pairs. The scripts differ only in the check before the common move
# (_MOVE). The move also keeps each user's queued set of the queue (and the queue's set of
# users with queued jobs) in step with the job's state.
_FILE_KEY = 2 + len(JOB_STATES)  # KEYS index of the file's job set
_FIELDS = 8  # ARGV index of the first field
_HEAD = "local job, id, now, keep = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])\n"
_MOVE = f"""
local queued, before = ARGV[5], redis.call('HMGET', job, 'state', 'user_id')
redis.call('HSET', job, unpack(ARGV, {_FIELDS}))
redis.call('EXPIRE', job, keep)
for i = 3, {_FILE_KEY - 1} do redis.call('ZREM', KEYS[i], id) end
redis.call('ZADD', KEYS[2], now, id)
if ARGV[4] == '1' then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(now) - keep) end
if before[1] == 'queued' and before[2] and before[2] ~= '' then
    local mine = queued .. ':user:' .. before[2]
    redis.call('ZREM', mine, id)
    if redis.call('EXISTS', mine) == 0 then redis.call('SREM', queued .. ':users', before[2]) end
end
local after = redis.call('HMGET', job, 'state', 'user_id')
if after[1] == 'queued' and after[2] and after[2] ~= '' then
    redis.call('ZADD', queued .. ':user:' .. after[2], now, id)
    redis.call('SADD', queued .. ':users', after[2])
end
"""
_INTO_FILE_SET = f"""
if KEYS[{_FILE_KEY}] then
    redis.call('SADD', KEYS[{_FILE_KEY}], id)
    redis.call('EXPIRE', KEYS[{_FILE_KEY}], keep)
end
"""
# A publish: the record is created (created_at set once) or refreshed (a retry republished).
_PUBLISH = (
    _HEAD + "redis.call('HSETNX', job, 'created_at', now)" + _MOVE + _INTO_FILE_SET + "return 1"
)
# A claim: a publish, unless one of the file's jobs is queued or started: then nothing is
# written and {id, state} of the latest such job comes back. It reads the file's other job
# hashes by name, beside KEYS: aibox runs against one server, not a cluster, and the check
# and the write must be one atomic step.
_CLAIM = (
    _HEAD
    + f"""
local prefix, active, active_state, active_at = string.sub(job, 1, #job - #id), nil, nil, 0
for _, other in ipairs(redis.call('SMEMBERS', KEYS[{_FILE_KEY}])) do
    local found = redis.call('HMGET', prefix .. other, 'state', 'created_at')
    local at = tonumber(found[2]) or 0
    if (found[1] == 'queued' or found[1] == 'started') and (not active or at >= active_at) then
        active, active_state, active_at = other, found[1], at
    end
end
if active then return {{active, active_state}} end
local limit, user = tonumber(ARGV[6]), ''
for i = {_FIELDS}, #ARGV, 2 do if ARGV[i] == 'user_id' then user = ARGV[i + 1] end end
if limit > 0 and user ~= '' then
    local count = 0
    for set in string.gmatch(ARGV[7], '%S+') do
        count = count + redis.call('ZCARD', set .. ':user:' .. user)
    end
    if count >= limit then return {{'', 'limit', count}} end
end
redis.call('HSETNX', job, 'created_at', now)"""
    + _MOVE
    + _INTO_FILE_SET
    + "return 1"
)
# A start: recorded even for a job the registry missed (its publish hook did not run).
_START = _HEAD + _MOVE + "return 1"
# An outcome (finished, failed, revoked): only for a job the registry knows, else 0 — an
# outcome alone (the record expired, or its file was deleted meanwhile) would leave a record
# without its task.
_END = _HEAD + "if redis.call('EXISTS', job) == 0 then return 0 end" + _MOVE + "return 1"

# KEYS: the job's hash; ARGV: the error. Counts a retry of a job the registry knows.
_RETRYING = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'retries', 1)
redis.call('HSET', KEYS[1], 'error', ARGV[1])
return 1
"""


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
        self._publish_script = client.register_script(_PUBLISH)
        self._claim_script = client.register_script(_CLAIM)
        self._start_script = client.register_script(_START)
        self._end_script = client.register_script(_END)
        self._retrying_script = client.register_script(_RETRYING)

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
        script_keys, script_args = self._move(job_id, queue, "queued", fields, file_id=file_id)
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
        script_keys, script_args = self._move(
            job_id, queue, "queued", fields, file_id=file_id, limit=limit
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
        script_keys, script_args = self._move(job_id, queue, "started", fields, now=now)
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
        script_keys, script_args = self._move(job_id, queue, state, fields)
        return bool(self._end_script(keys=script_keys, args=script_args, client=client))

    def _move(
        self,
        job_id: str,
        queue: str,
        state: JobState,
        fields: dict[str, Any],
        *,
        now: float | None = None,
        file_id: str | None = None,
        limit: int = 0,
    ) -> tuple[list[str], list[str | float | int]]:
        """The KEYS and ARGV every transition script takes (see _MOVE)."""
        now = time.time() if now is None else now
        values = {k: "" if v is None else str(v) for k, v in fields.items()}
        values.update(queue=queue, state=state)
        script_keys = [keys.job(job_id), keys.jobs_by_state(queue, state)]
        script_keys += [keys.jobs_by_state(queue, s) for s in JOB_STATES if s != state]
        if file_id:
            script_keys.append(keys.file_jobs(file_id))
        args: list[str | float | int] = [
            job_id,
            repr(now),
            self.retention_s,
            "1" if state in TERMINAL_STATES else "0",
            keys.jobs_by_state(queue, "queued"),
            limit,
            " ".join(keys.jobs_by_state(q, "queued") for q in QUEUES),
        ]
        for field, value in values.items():
            args += [field, value]
        return script_keys, args


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
