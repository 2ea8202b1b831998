"""The Redis result backend: no pub/sub subscription per submitted task, one round trip per store.

Celery's Redis backend subscribes a channel for every task a process submits
(``on_task_call``), so that ``AsyncResult.get()`` can be woken by pub/sub. A long-lived
producer that never waits for results — the API — accumulates those subscriptions until it
stalls (celery/celery#6963). aibox reads job state by key and from the job registry, so this
backend never subscribes at submission. ``AsyncResult.get()`` still works: it subscribes when
it starts waiting and reads the stored result first (``on_wait_for_pending``), so a result
that arrived before the wait is not missed.

Storing a state is one Lua script. Celery's key-value backend reads the stored meta first
(GET, then JSON-decodes it) so that a late STARTED or RETRY never overwrites a SUCCESS, then
writes with a MULTI of SETEX and PUBLISH: two round trips for each of the two states every
task stores (STARTED, then its outcome; ``task_track_started`` is on). The script does the
same check, write and publish in one round trip, and atomically (Celery's read-then-write
leaves a window in which a lost duplicate can still overwrite the success).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from celery import states
from celery.backends.redis import RedisBackend as CeleryRedisBackend
from celery.exceptions import BackendStoreError
from redis.commands.core import Script

# KEYS: the task's meta key; ARGV: the encoded meta, its TTL in seconds (0: none).
# Returns 0 (and writes nothing) when the stored meta is already a SUCCESS.
_STORE = """
local current = redis.call('GET', KEYS[1])
if current then
    local ok, meta = pcall(cjson.decode, current)
    if ok and type(meta) == 'table' and meta['status'] == 'SUCCESS' then return 0 end
end
local ttl = tonumber(ARGV[2])
if ttl > 0 then
    redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
else
    redis.call('SET', KEYS[1], ARGV[1])
end
redis.call('PUBLISH', KEYS[1], ARGV[1])
return 1
"""


class RedisBackend(CeleryRedisBackend):  # type: ignore[misc]
    """Celery's Redis result backend minus the subscription on every ``apply_async``."""

    def on_task_call(self, producer: Any, task_id: str) -> None:
        """Do nothing: subscribe only when somebody waits for the result."""

    def _store_result(
        self,
        task_id: str,
        result: Any,
        state: str,
        traceback: str | None = None,
        request: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Store the state unless a SUCCESS is stored already: one atomic round trip."""
        meta = self._get_result_meta(
            result=result, state=state, traceback=traceback, request=request
        )
        meta["task_id"] = task_id.decode() if isinstance(task_id, bytes) else str(task_id)
        value = self.encode(meta)
        if len(value) > self._MAX_STR_VALUE_SIZE:
            raise BackendStoreError(
                "value too large for Redis backend", state=state, task_id=task_id
            )
        expires = self.failure_expires if state == states.FAILURE else self.expires
        key = self.get_key_for_task(task_id)
        self.ensure(self._store_unless_succeeded, (key, value, int(expires or 0)))
        return result

    def _store_unless_succeeded(self, key: bytes | str, value: str | bytes, ttl_s: int) -> None:
        self._store_script(keys=[key], args=[value, ttl_s])

    @cached_property
    def _store_script(self) -> Script:
        script: Script = self.client.register_script(_STORE)
        return script
