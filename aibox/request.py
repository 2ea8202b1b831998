"""Worker-side requests that never lose a message when the broker goes away mid-task.

With ``worker_cancel_long_running_tasks_on_connection_loss`` (DESIGN.md), a worker that loses
its Redis connection terminates the late-acknowledged tasks it is running, so that their
messages, which it can no longer acknowledge, are delivered again. Celery marks such a request
cancelled only *after* storing a RETRY result; when the result backend is the same Redis that
just went away, that store raises, the mark is never set, and once the terminated child is
reaped Celery takes it for a revoke and **acknowledges the message** on the new connection:
the job is gone without a trace (seen in ``tests/faults/test_redis_restart.py``: 2 of 100 jobs).

``Request`` records the cancellation whether or not the backend answered; the message then
stays unacknowledged, is no longer leased by anyone (``aibox.lease``), and returns to its queue
after the visibility timeout like any message of a dead worker.
"""

from __future__ import annotations

from typing import Any

from celery import Task
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

    Request = "aibox.request:Request"
