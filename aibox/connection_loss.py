"""Surviving a lost broker connection with no job lost and no worker dead (Celery 5.7).

With ``worker_cancel_long_running_tasks_on_connection_loss`` (DESIGN.md) a worker that loses its
Redis connection terminates the late-acknowledged tasks it is running, since it can no longer
acknowledge their messages, and reconnects; the messages come back after the visibility
timeout (nobody renews their lease any more, see ``aibox.lease``). Two Celery 5.7 paths break
that when Redis itself restarts, both seen in ``tests/faults/test_redis_restart.py``:

* **A job acknowledged as revoked.** Celery marks a request cancelled only *after* storing a
  RETRY result. The result backend is the same Redis that just went away, so the store raises,
  the mark is never set, and once the terminated child is reaped Celery takes it for a revoke
  and acknowledges the message on the new connection: the job is gone (2 of 100 in CI).
  :class:`Request` sets the mark whether or not the backend answered.
* **A worker that dies instead of reconnecting.** Before reconnecting, Celery closes the broken
  connection; closing a channel restores its unacknowledged messages, which needs a new Redis
  client, which kombu cannot build from a half-collected connection: an ``AttributeError``,
  not a connection error, so the worker stops with "Unrecoverable error". :class:`Consumer`
  turns that restore off for the broken connection only. Nothing is lost: the restore could
  not reach Redis anyway, and the leases of those messages lapse within the visibility timeout.
"""

from __future__ import annotations

from typing import Any

from celery import Task
from celery.worker.consumer import Consumer as CeleryConsumer
from celery.worker.request import Request as CeleryRequest


class Request(CeleryRequest):  # type: ignore[misc]
    """A task request whose cancellation on connection loss always leaves its message alone."""

    def _announce_cancelled(self, emit_retry: bool = True) -> Any:
        try:
            return super()._announce_cancelled(emit_retry=emit_retry)
        finally:
            self._already_cancelled = True


class ReliableTask(Task):  # type: ignore[misc]
    """Base of every aibox task: runs with :class:`Request`."""

    Request = "aibox.connection_loss:Request"


class Consumer(CeleryConsumer):  # type: ignore[misc]
    """The worker's consumer, closing a broken broker connection without restoring through it."""

    def on_connection_error_after_connected(self, exc: BaseException) -> None:
        transport = getattr(self.connection, "_transport", None)
        for channel in list(getattr(transport, "channels", None) or ()):
            channel.do_restore = False
        super().on_connection_error_after_connected(exc)
