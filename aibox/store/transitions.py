"""The job registry's state transitions: one Lua script each, and the KEYS and ARGV they take.

Each transition is one script (one round trip, atomic), so a job is always in exactly one
state set, and a user's queued set always agrees with it; these writes run for every job, in
the worker's hot path, so each is a single ``EVALSHA``. :func:`transition` builds the
arguments every script takes; ``aibox/store/registry.py`` runs them.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from aibox import keys
from aibox.queues import QUEUES

JobState = Literal["queued", "started", "finished", "failed", "revoked"]
JOB_STATES: tuple[JobState, ...] = ("queued", "started", "finished", "failed", "revoked")
TERMINAL_STATES: frozenset[str] = frozenset({"finished", "failed", "revoked"})

# The transitions, one Lua script each (one round trip, atomic). Every script takes the same
# KEYS — the job's hash, the new state's set, the other states' sets, and for a publish or a
# claim the file's job set last — and ARGV — job id, now, retention (s), "1" to trim the new
# state's set of entries older than the retention, the queue's queued set (the users' queued
# sets are named after it, see keys.user_queued), the per-user limit of queued jobs (claims
# only; 0: none), the queued sets of every queue separated by spaces (for that limit), then
# the hash's field/value pairs (all built by transition()). The scripts differ only in the
# check before the common move (_MOVE). The move also keeps each user's queued set of the
# queue (and the queue's set of users with queued jobs) in step with the job's state.
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
PUBLISH = (
    _HEAD + "redis.call('HSETNX', job, 'created_at', now)" + _MOVE + _INTO_FILE_SET + "return 1"
)
# A claim: a publish, unless one of the file's jobs is queued or started: then nothing is
# written and {id, state} of the latest such job comes back. It reads the file's other job
# hashes by name, beside KEYS: aibox runs against one server, not a cluster, and the check
# and the write must be one atomic step.
CLAIM = (
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
START = _HEAD + _MOVE + "return 1"
# An outcome (finished, failed, revoked): only for a job the registry knows, else 0 — an
# outcome alone (the record expired, or its file was deleted meanwhile) would leave a record
# without its task.
END = _HEAD + "if redis.call('EXISTS', job) == 0 then return 0 end" + _MOVE + "return 1"

# KEYS: the job's hash; ARGV: the error. Counts a retry of a job the registry knows.
RETRYING = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'retries', 1)
redis.call('HSET', KEYS[1], 'error', ARGV[1])
return 1
"""


def transition(
    job_id: str,
    queue: str,
    state: JobState,
    fields: dict[str, Any],
    retention_s: int,
    *,
    now: float | None = None,
    file_id: str | None = None,
    limit: int = 0,
) -> tuple[list[str], list[str | float | int]]:
    """The KEYS and ARGV every transition script takes (see _MOVE): the job's move to
    ``state`` on ``queue`` with ``fields`` written, and for a claim the per-user ``limit``."""
    now = time.time() if now is None else now
    values = {k: "" if v is None else str(v) for k, v in fields.items()}
    values.update(queue=queue, state=state)
    script_keys = [keys.job(job_id), keys.jobs_by_state(queue, state)]
    script_keys += [keys.jobs_by_state(queue, s) for s in JOB_STATES if s != state]
    if file_id:
        script_keys.append(keys.file_jobs(file_id))
    # Only a claim with a limit counts the user's jobs on every queue.
    every_queue = " ".join(keys.jobs_by_state(q, "queued") for q in QUEUES) if limit else ""
    args: list[str | float | int] = [
        job_id,
        repr(now),
        retention_s,
        "1" if state in TERMINAL_STATES else "0",
        keys.jobs_by_state(queue, "queued"),
        limit,
        every_queue,
    ]
    for field, value in values.items():
        args += [field, value]
    return script_keys, args
