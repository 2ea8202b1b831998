"""A fair order of work between users, within each queue.

Kombu's Redis transport keeps a queue as a list: first in, first out across all users, so one
user's 2,000-document import makes everyone else wait behind all of it. aibox does not push a
job's message onto its queue when it is published. The message (exactly the bytes kombu would
push) waits in its user's own list, and the queue's list — what workers ``BRPOP`` — holds only
``fair_ready_jobs`` messages at a time. Whenever it runs short, a Lua script refills it with one
message from each waiting user in turn (a ring of users, round robin) into the queue's
lowest-priority list. A user with nothing else queued on that queue skips the line: their job
goes to the queue's highest-priority list, which workers empty first, so a single upload, or an
admin's retry of a user's failed job, never waits behind another user's bulk import (aibox
sets no priorities of its own, so those lists hold nothing else). A re-submission goes to the
front of its user's list.

The refill runs when a job is published, when a worker receives a message (the consumer
bootstep below) and on every lease tick of every worker, so a refill lost to a crash or a
broker blip is made up within ``lease_interval_s``. Nothing else changes: the messages are
kombu's own, delivered, acknowledged late, leased and restored as before (a restored message
goes straight back to its queue's head, never to a user's list: it had its turn).

Keys, on the broker's server: ``aibox:fair:{queue}:ring`` (list of user ids with waiting
messages, next to serve first) and ``aibox:fair:{queue}:user:{user_id}`` (that user's
waiting messages; ``LPUSH`` appends, ``RPOP`` takes the oldest, as in kombu's lists).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal, cast

import redis
from celery import bootsteps
from kombu.transport import redis as kombu_redis
from kombu.utils.json import dumps
from redis.exceptions import RedisError

from aibox import keys
from aibox.queues import QUEUES
from aibox.settings import get_settings

logger = logging.getLogger(__name__)

#: Where a published message goes: ``first`` to the head of the queue (its user has nothing
#: else queued there), ``front`` to the head of its user's list (a re-submission), ``back``
#: to the end of its user's list.
Place = Literal["first", "front", "back"]

# KEYS: the queue's lists (highest priority first), then the ring. ARGV[1]: the prefix of the
# users' lists, ARGV[2]: how many messages the queue's lists should hold. Messages taken in
# turn join the lowest-priority list; a user's first goes to the highest, so workers (BRPOP
# the lists in priority order) take firsts before them, firsts in the order they came.
_REFILL = """
local lanes, ring, prefix, window = #KEYS - 1, KEYS[#KEYS], ARGV[1], tonumber(ARGV[2])
local function refill()
    local ready, moved = 0, 0
    for i = 1, lanes do ready = ready + redis.call('LLEN', KEYS[i]) end
    while ready < window do
        local user = redis.call('LMOVE', ring, ring, 'LEFT', 'RIGHT')
        if not user then break end
        local waiting = prefix .. user
        local message = redis.call('RPOP', waiting)
        if message then
            redis.call('LPUSH', KEYS[lanes], message)
            ready, moved = ready + 1, moved + 1
        end
        if redis.call('LLEN', waiting) == 0 then redis.call('LREM', ring, 0, user) end
    end
    return moved
end
"""
# ARGV[3]: the user, ARGV[4]: the message, ARGV[5]: its place (see Place).
_PUSH = (
    _REFILL
    + """
local user, message, place = ARGV[3], ARGV[4], ARGV[5]
if place == 'first' then
    redis.call('LPUSH', KEYS[1], message)
else
    local waiting = prefix .. user
    if place == 'front' then
        redis.call('RPUSH', waiting, message)
    else
        redis.call('LPUSH', waiting, message)
    end
    if not redis.call('LPOS', ring, user) then redis.call('RPUSH', ring, user) end
end
return refill()
"""
)
_REFILL_ONLY = _REFILL + "return refill()\n"


def waiting_users(client: redis.Redis, queue: str) -> list[str]:
    """The users with messages waiting for ``queue``, the next one to serve first."""
    ring: list[bytes | str] = client.lrange(keys.fair_ring(queue), 0, -1)
    return [u.decode() if isinstance(u, bytes) else u for u in ring]


@dataclass(frozen=True)
class Layout:
    """How the transport names a queue's lists: separator, priority steps, key prefix."""

    sep: str = "\x06\x16"
    priority_steps: tuple[int, ...] = (0, 3, 6, 9)
    prefix: str = ""

    @classmethod
    def of(cls, channel: Any) -> Layout:
        """The layout of a kombu Redis channel."""
        return cls(channel.sep, tuple(channel.priority_steps), channel.global_keyprefix or "")

    def lanes(self, queue: str) -> list[str]:
        """The queue's lists, highest priority (consumed first) first."""
        names = [queue if s == 0 else f"{queue}{self.sep}{s}" for s in self.priority_steps]
        return [self.prefix + name for name in names]


class FairQueues:
    """The users' waiting lists of each queue and the scripts that move messages out of them."""

    def __init__(self, client: redis.Redis, layout: Layout, ready_jobs: int) -> None:
        self.client = client
        self.layout = layout
        self.ready_jobs = ready_jobs
        self._push = client.register_script(_PUSH)
        self._refill = client.register_script(_REFILL_ONLY)

    @staticmethod
    @functools.lru_cache(maxsize=16)
    def on(pool: redis.ConnectionPool, layout: Layout, ready_jobs: int) -> FairQueues:
        """The instance for a connection pool (a kombu channel's): built once, not on every
        message a worker receives or a publisher sends."""
        return FairQueues(redis.Redis(connection_pool=pool), layout, ready_jobs)

    def push(self, queue: str, user_id: str, message: str, place: Place) -> int:
        """Hold ``message`` for ``user_id``'s turn on ``queue`` (or queue it first); refill.

        Returns how many waiting messages the refill moved onto the queue.
        """
        args: list[str | int] = [*self._args(queue), user_id, message, place]
        return int(cast(int, self._push(keys=self._keys(queue), args=args)))

    def refill(self, queue: str) -> int:
        """Move waiting messages onto ``queue``, one per user in turn, until it holds
        ``ready_jobs``; returns how many moved."""
        return int(cast(int, self._refill(keys=self._keys(queue), args=self._args(queue))))

    def _keys(self, queue: str) -> list[str]:
        return [*self.layout.lanes(queue), keys.fair_ring(queue)]

    def _args(self, queue: str) -> list[str | int]:
        return [keys.fair_waiting(queue, ""), self.ready_jobs]


@dataclass(frozen=True)
class Publishing:
    """Who the message being published belongs to, and where it goes."""

    user_id: str
    place: Place


#: Set by ``aibox.submit`` around its publish: the fair channel reads it in ``_put``.
publishing: ContextVar[Publishing | None] = ContextVar("aibox_fair_publishing", default=None)


@contextlib.contextmanager
def publishing_as(user_id: str, place: Place) -> Iterator[None]:
    """Within the block, a message published on a fair connection waits for ``user_id``."""
    token = publishing.set(Publishing(user_id, place))
    try:
        yield
    finally:
        publishing.reset(token)


class FairChannel(kombu_redis.Channel):
    """Kombu's Redis channel, except that a published job's message waits in its user's list
    (when :data:`publishing` names one) instead of being pushed onto the queue."""

    def _put(self, queue: str, message: Any, **kwargs: Any) -> None:
        who = publishing.get()
        if who is None or queue not in QUEUES:
            super()._put(queue, message, **kwargs)  # type: ignore[no-untyped-call]
            return
        with self.conn_or_acquire() as client:
            fair = FairQueues.on(client.connection_pool, Layout.of(self), _ready_jobs())
            fair.push(queue, who.user_id, dumps(message), who.place)  # type: ignore[no-untyped-call]


class FairTransport(kombu_redis.Transport):
    """Kombu's Redis transport with :class:`FairChannel`; used only to publish jobs."""

    Channel = FairChannel


@functools.cache
def fair_pool(app: Any) -> Any:
    """A pool of ``app``'s broker connections on :class:`FairTransport` (per process)."""
    connection = app.connection_for_write(transport=FairTransport)
    return connection.Pool(limit=app.conf.broker_pool_limit)


# A pool's sockets belong to the process that opened them.
os.register_at_fork(after_in_child=fair_pool.cache_clear)


#: With fair scheduling off, a refill moves every waiting message (left from when it was on).
_EVERYTHING = 2**31


def _ready_jobs() -> int:
    settings = get_settings()
    return settings.fair_ready_jobs if settings.fair_scheduling else _EVERYTHING


def refill_for(consumer: Any, queues: list[str]) -> None:
    """Refill ``queues`` on the worker's broker connection; a broker error waits for the
    next tick."""
    task_consumer = getattr(consumer, "task_consumer", None)
    if task_consumer is None:
        return
    channel = task_consumer.channel
    try:
        with channel.conn_or_acquire() as client:
            fair = FairQueues.on(client.connection_pool, Layout.of(channel), _ready_jobs())
            for queue in queues:
                fair.refill(queue)
    except RedisError as exc:
        logger.warning("could not refill the queues %s: %s", ", ".join(queues), exc)


def consumed_queues(consumer: Any) -> list[str]:
    """aibox's queues among those the worker consumes."""
    task_consumer = getattr(consumer, "task_consumer", None)
    names = {q.name for q in getattr(task_consumer, "queues", ())}
    return [q for q in QUEUES if q in names]


class FairRefill(bootsteps.StartStopStep):  # type: ignore[misc]
    """Consumer bootstep: refill a queue each time the worker takes a message from it, and
    every queue it consumes every ``lease_interval_s``. With fair scheduling off only the
    latter, which then releases whatever still waits (switching it off strands nothing)."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.tref: Any = None
        self.callback: Any = None

    def start(self, parent: Any) -> None:
        """Hook the consumer's message callbacks and the timer."""
        if get_settings().fair_scheduling:

            def received(request: Any) -> None:
                queue = (request.delivery_info or {}).get("routing_key")
                if queue in QUEUES:
                    refill_for(parent, [queue])

            self.callback = received
            parent.on_task_message.add(received)
        interval = get_settings().lease_interval_s
        self.tref = parent.timer.call_repeatedly(
            interval, lambda: refill_for(parent, consumed_queues(parent)), priority=10
        )

    def stop(self, parent: Any) -> None:
        """Unhook (shutdown, or a consumer restart after a lost connection)."""
        if self.callback is not None:
            parent.on_task_message.discard(self.callback)
            self.callback = None
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    shutdown = stop
