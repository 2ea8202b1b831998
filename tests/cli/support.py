"""Helpers for the CLI and metrics tests: the session worker, its queues, Redis read directly."""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import redis

from aibox import app
from aibox.settings import get_settings
from tests.support import wait_for

#: kombu's Redis transport: priority 0 (and no priority) in the bare list, then these suffixes.
PRIORITY_LISTS = ("", "\x06\x163", "\x06\x166", "\x06\x169")
STATES = ("queued", "started", "finished", "failed", "revoked")
#: Not a PDF at all: its job fails at once, permanently.
CORRUPT_PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8


def broker_length(queue: str) -> int:
    """Messages in a queue's broker lists (every priority)."""
    with redis.Redis.from_url(get_settings().broker) as client:
        return sum(int(client.llen(queue + suffix)) for suffix in PRIORITY_LISTS)


def session_node() -> str:
    """The node name of the session ``worker`` fixture."""
    return f"session-{os.getpid()}@localhost"


def consumed_queues(node: str) -> set[str]:
    """The queues ``node`` consumes right now."""
    replies = app.control.inspect(destination=[node], timeout=5, limit=1).active_queues() or {}
    return {q["name"] for q in replies.get(node, [])}


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
            client.delete(*(q + suffix for q in names for suffix in PRIORITY_LISTS))
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


def active_jobs(node: str) -> list[dict[str, Any]]:
    """The requests ``node`` is running."""
    replies = app.control.inspect(destination=[node], timeout=5, limit=1).active() or {}
    return list(replies.get(node, []))


def pid_running(node: str, job_id: str) -> int:
    """The pool process of ``node`` that runs ``job_id`` (waits until it does)."""

    def find() -> int | None:
        for request in active_jobs(node):
            if request["id"] == job_id and request.get("worker_pid"):
                return int(request["worker_pid"])
        return None

    return int(wait_for(find, timeout=60, interval=0.05))


def long_text(sentences: int, seed: int = 7) -> bytes:
    """A plain-text document that takes the pipeline a while (~7 s per 40,000 sentences)."""
    words = "Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia".split()
    rng = random.Random(seed)
    return " ".join(
        f"{rng.choice(words)} met {rng.choice(words)} in Paris to discuss report {i}."
        for i in range(sentences)
    ).encode()
