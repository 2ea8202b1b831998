"""Helpers for the CLI and metrics tests: the session worker, its queues, Redis read directly."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import redis

from aibox import app, keys
from aibox.settings import get_settings
from tests.monitoring.support import (
    active_jobs,
    consumed_queues,
    pid_running,
    session_node,
)
from tests.support import wait_for

#: kombu's Redis transport: priority 0 (and no priority) in the bare list, then these suffixes.
PRIORITY_LISTS = ("", "\x06\x163", "\x06\x166", "\x06\x169")
STATES = ("queued", "started", "finished", "failed", "revoked")
#: Not a PDF at all: its job fails at once, permanently.
CORRUPT_PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8


def broker_length(queue: str) -> int:
    """Messages in a queue's broker lists (every priority) and those waiting for their user's
    turn (fair scheduling: a list per user, ``aibox:fair:{queue}:user:{user}``)."""
    with redis.Redis.from_url(get_settings().broker) as client:
        waiting = list(client.scan_iter(match=keys.fair_waiting(queue, "*")))
        return sum(
            int(client.llen(key)) for key in [*(queue + s for s in PRIORITY_LISTS), *waiting]
        )


@contextmanager
def paused(node: str, queues: Iterable[str]) -> Iterator[None]:
    """``node`` stops consuming ``queues``; afterwards they are purged and consumed again."""
    names = list(queues)
    for queue in names:
        app.control.cancel_consumer(queue, destination=[node], reply=True, timeout=5)
    wait_for(lambda: not consumed_queues(node) & set(names), timeout=15)
    try:
        yield
    finally:
        with redis.Redis.from_url(get_settings().broker) as client:
            waiting = [k for q in names for k in client.scan_iter(match=keys.fair_pattern(q))]
            client.delete(*(q + suffix for q in names for suffix in PRIORITY_LISTS), *waiting)
        for queue in names:
            app.control.add_consumer(queue, destination=[node], reply=True, timeout=5)
        wait_for(lambda: set(names) <= consumed_queues(node), timeout=15)


@contextmanager
def frozen(pids: Iterable[int]) -> Iterator[None]:
    """SIGSTOP processes, SIGCONT them afterwards."""
    stopped = []
    try:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        yield
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)


__all__ = [
    "active_jobs",
    "consumed_queues",
    "pid_running",
    "session_node",
]
