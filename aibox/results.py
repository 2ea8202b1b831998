"""The Redis result backend, without a pub/sub subscription per submitted task.

Celery's Redis backend subscribes a channel for every task a process submits
(``on_task_call``), so that ``AsyncResult.get()`` can be woken by pub/sub. A long-lived
producer that never waits for results — the API — accumulates those subscriptions until it
stalls (celery/celery#6963). aibox reads job state by key and from the job registry, so this
backend never subscribes at submission. ``AsyncResult.get()`` still works: it subscribes when
it starts waiting and reads the stored result first (``on_wait_for_pending``), so a result
that arrived before the wait is not missed.
"""

from __future__ import annotations

from typing import Any

from celery.backends.redis import RedisBackend as CeleryRedisBackend


class RedisBackend(CeleryRedisBackend):  # type: ignore[misc]
    """Celery's Redis result backend minus the subscription on every ``apply_async``."""

    def on_task_call(self, producer: Any, task_id: str) -> None:
        """Do nothing: subscribe only when somebody waits for the result."""
