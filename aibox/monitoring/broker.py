"""The queues as the broker holds them: kombu's Redis lists, read without consuming anything.

Kombu's Redis transport keeps a queue as one list per priority step (``priority_steps``,
default 0, 3, 6, 9): step 0 in the list named after the queue, step p in ``queue + sep + p``
(``sep`` is ``"\\x06\\x16"``), all behind the transport's ``global_keyprefix``. A message
published without a priority gets the default priority 0, so it lands in the bare list, which
is the highest-priority bucket: producers LPUSH, workers BRPOP the lists in step order, so the
next message to run is the rightmost one of the first non-empty list.

Messages waiting for their user's turn (aibox/fairness.py) are in the queue too: listed, counted
and removable like the others, after the queue's own lists.

Messages are JSON; only their headers and a JSON body are read, nothing is ever unpickled.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import redis
from celery import Celery

from aibox import keys
from aibox.fairness import Layout, waiting_users

logger = logging.getLogger(__name__)

_SCAN_CHUNK = 500


@dataclass(frozen=True)
class QueuedMessage:
    """One task message waiting in a queue's lists."""

    job_id: str
    task: str | None
    priority: int | None
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Position:
    """Where a listing stopped: list ``bucket``, ``offset`` messages from its right end."""

    bucket: int = 0
    offset: int = 0
    last_job_id: str | None = None


class Broker:
    """Reads (and removes single) messages from the queues' priority lists."""

    def __init__(self, client: redis.Redis, layout: Layout) -> None:
        self.client = client
        self.layout = layout

    def lists(self, queue: str) -> list[str]:
        """The keys of a queue's lists: its priority lists, highest priority (consumed first)
        first, then the lists of messages waiting for their user's turn (aibox/fairness.py),
        users in the order of their ids (a stable order for paging; the ring serves them in
        turn)."""
        users = sorted(waiting_users(self.client, queue))
        return self.layout.lanes(queue) + [keys.fair_waiting(queue, u) for u in users]

    def lengths(self, queues: Iterable[str]) -> dict[str, int]:
        """How many messages each queue holds, summed over its lists."""
        lists_of = {queue: self.lists(queue) for queue in queues}
        pipe = self.client.pipeline(transaction=False)
        for names in lists_of.values():
            for name in names:
                pipe.llen(name)
        sizes = iter(cast(list[int], pipe.execute()))
        return {queue: sum(next(sizes) for _ in names) for queue, names in lists_of.items()}

    def page(
        self, queue: str, limit: int, start: Position | None = None
    ) -> tuple[list[QueuedMessage], Position | None]:
        """Up to ``limit`` messages in the order workers will take them, and where to go on.

        Workers only pop from the right, so an offset from the right end stays valid while
        they consume; the last job id listed finds the spot again if messages left meanwhile.
        """
        keys = self.lists(queue)
        position = start or Position()
        bucket, offset = position.bucket, position.offset
        if bucket < 0 or offset < 0:
            raise ValueError(f"no such position in a queue: {position}")
        if position.last_job_id is not None and bucket < len(keys):
            offset = self._resync(keys[bucket], offset, position.last_job_id)
        found: list[QueuedMessage] = []
        while bucket < len(keys) and len(found) < limit:
            want = limit - len(found)
            raws = cast(
                list[bytes], self.client.lrange(keys[bucket], -(offset + want), -offset - 1)
            )
            found.extend(m for m in map(parse_message, reversed(raws)) if m is not None)
            offset += len(raws)
            if len(raws) < want:
                bucket, offset = bucket + 1, 0
        if bucket >= len(keys) or not found:
            return found, None
        return found, Position(bucket, offset, found[-1].job_id)

    def remove(self, queue: str, job_id: str) -> bool:
        """Take a job's message out of its queue, so no worker ever receives it."""
        for key in self.lists(queue):
            index = 0
            while raws := cast(
                list[bytes], self.client.lrange(key, index, index + _SCAN_CHUNK - 1)
            ):
                for raw in raws:
                    message = parse_message(raw)
                    if message is not None and message.job_id == job_id:
                        return bool(self.client.lrem(key, 1, cast(str, raw)))  # bytes work
                index += len(raws)
        return False

    def _resync(self, key: str, offset: int, last_job_id: str) -> int:
        """The offset just past ``last_job_id``, which consumption may have moved right."""
        if offset <= 0:
            return 0
        here = parse_message(raw) if (raw := self.client.lindex(key, -offset)) else None
        if here is not None and here.job_id == last_job_id:
            return offset
        raws = cast(list[bytes], self.client.lrange(key, -offset, -1))
        for index, raw in enumerate(reversed(raws)):
            message = parse_message(raw)
            if message is not None and message.job_id == last_job_id:
                return index + 1
        # Gone: popped, and with it everything to its right, so the rest starts at the end.
        return 0


@contextmanager
def open_broker(app: Celery) -> Iterator[Broker]:
    """A :class:`Broker` on one of the app's pooled connections, with its transport's layout."""
    with app.pool.acquire(block=True) as connection:
        channel = connection.default_channel
        client = redis.Redis(connection_pool=channel.client.connection_pool)
        yield Broker(client, Layout.of(channel))


def parse_message(raw: bytes | str) -> QueuedMessage | None:
    """A task message's job id, task, priority and JSON arguments; None if it is not one."""
    try:
        message = json.loads(raw)
        headers = message.get("headers") or {}
        properties = message.get("properties") or {}
        job_id = headers["id"]
    except (ValueError, KeyError, TypeError, AttributeError):
        logger.warning("skipped a message that is not a JSON task message: %.80r", raw)
        return None
    args, kwargs = _arguments(message, properties)
    priority = properties.get("priority")
    return QueuedMessage(
        job_id=str(job_id),
        task=headers.get("task"),
        priority=priority if isinstance(priority, int) else None,
        args=args,
        kwargs=kwargs,
    )


def _arguments(
    message: dict[str, Any], properties: dict[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    """Protocol 2's ``[args, kwargs, embed]`` body, only when it is JSON."""
    if message.get("content-type") != "application/json":
        return [], {}
    body = message.get("body")
    try:
        if properties.get("body_encoding") == "base64" and isinstance(body, str):
            body = base64.b64decode(body)
        decoded = json.loads(body) if isinstance(body, (str, bytes)) else body
    except (ValueError, binascii.Error):
        return [], {}
    if isinstance(decoded, list) and len(decoded) >= 2:
        args, kwargs = decoded[0], decoded[1]
        return (list(args) if isinstance(args, list) else []), (
            kwargs if isinstance(kwargs, dict) else {}
        )
    return [], {}
