"""Leases on delivered messages: fast redelivery from dead workers, none from living ones.

On Redis, every message a worker has fetched but not acknowledged sits in kombu's
``unacked_index`` sorted set, scored by its delivery time; any worker's restore sweep puts a
message back on its queue once that score is older than the visibility timeout. Stock Celery
therefore trades recovery time (a long timeout) against duplicates (a long task outlives a
short timeout and is delivered again).

aibox keeps the timeout short and makes the score a lease: this consumer bootstep, every
``lease_interval_s``, re-stamps with the current time every message its worker still holds —
waiting, running or held for a later ETA. A living worker's messages are therefore never older
than one interval; a dead worker's stop being renewed and come back within
``visibility_timeout + sweep interval + lease interval`` (documented bound: under 60 s with
the defaults 30 + 5 + 5). ``ZADD XX`` only touches entries that still exist, so a message
acknowledged meanwhile is never resurrected. It works with any number of workers on any
number of machines: each renews only what it holds, and the sweep is kombu's own, guarded by
its mutex.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import bootsteps
from redis.exceptions import RedisError

from aibox.settings import get_settings

logger = logging.getLogger(__name__)


def held_delivery_tags(consumer: Any) -> list[str]:
    """Delivery tags of every message this worker's task consumer holds unacknowledged."""
    task_consumer = getattr(consumer, "task_consumer", None)
    if task_consumer is None:
        return []
    qos = task_consumer.channel.qos
    return [tag for tag in list(qos._delivered) if tag not in qos._dirty]


def renew(consumer: Any) -> int:
    """Stamp every held message with the current time; returns how many were renewed."""
    tags = held_delivery_tags(consumer)
    if not tags:
        return 0
    channel = consumer.task_consumer.channel
    now = time.time()
    try:
        with channel.conn_or_acquire() as client:
            return int(
                client.zadd(channel.unacked_index_key, dict.fromkeys(tags, now), xx=True, ch=True)
            )
    except RedisError as exc:  # the broker is briefly away: renew on the next tick
        logger.warning("could not renew leases of %d messages: %s", len(tags), exc)
        return 0


class LeaseRenewal(bootsteps.StartStopStep):  # type: ignore[misc]
    """Consumer bootstep renewing the leases of held messages every ``lease_interval_s``."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.tref: Any = None

    def start(self, parent: Any) -> None:
        """Schedule renewals on the consumer's timer (the worker's event loop)."""
        interval = get_settings().lease_interval_s
        self.tref = parent.timer.call_repeatedly(interval, renew, (parent,), priority=10)

    def stop(self, parent: Any) -> None:
        """Stop renewing (shutdown or a consumer restart after a lost connection)."""
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    shutdown = stop
