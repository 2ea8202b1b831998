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
* **A worker that dies acknowledging.** A job that ends after the reconnect (pool processes
  ignore the cancelling SIGTERM under ``REMAP_SIGTERM=SIGQUIT``) acknowledges its message on
  the channel it came from, whose connection is gone: kombu raises ``AttributeError`` inside
  the event loop and the consumer stops for good. :class:`Request` acknowledges such a
  message directly in the broker — what kombu's ack does: drop it from ``unacked`` and
  ``unacked_index`` — and leaves a message to requeue where it is, for its lease to lapse.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import redis
from celery import Task
from celery.worker.consumer import Consumer as CeleryConsumer
from celery.worker.request import Request as CeleryRequest

from aibox.settings import get_settings

logger = logging.getLogger(__name__)


@functools.cache
def _broker() -> redis.Redis:
    return redis.Redis.from_url(get_settings().broker)


def _channel_gone(message: Any) -> bool:
    return getattr(getattr(message, "channel", None), "connection", True) is None


def _remove_from_unacked(message: Any) -> None:
    channel, tag = message.channel, message.delivery_tag
    try:
        pipe = _broker().pipeline()
        pipe.zrem(channel.unacked_index_key, tag)
        pipe.hdel(channel.unacked_key, tag)
        pipe.execute()
    except redis.RedisError as exc:  # it comes back after the visibility timeout instead
        logger.warning("could not acknowledge message %s after a reconnect: %s", tag, exc)


class Request(CeleryRequest):  # type: ignore[misc]
    """A task request that never loses, nor dies on, a message of a lost connection."""

    acknowledged: bool

    def _announce_cancelled(self, emit_retry: bool = True) -> Any:
        try:
            return super()._announce_cancelled(emit_retry=emit_retry)
        finally:
            self._already_cancelled = True

    def acknowledge(self) -> None:
        if not self.acknowledged and _channel_gone(self._message):
            _remove_from_unacked(self._message)
            self.acknowledged = True
            return
        super().acknowledge()

    def reject(self, requeue: bool = False) -> None:
        if not self.acknowledged and _channel_gone(self._message):
            if not requeue:
                _remove_from_unacked(self._message)
            self.acknowledged = True  # a requeue happens when its lease lapses
            return
        super().reject(requeue=requeue)


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
