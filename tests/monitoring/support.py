"""Helpers for the monitoring tests: pausing consumption, freezing running jobs, reading Redis.

Everything here reads Redis and the workers directly (key names spelled out, JSON parsed by
hand), so that the tests compare the API with the source of truth, not with itself.
"""

from __future__ import annotations

import json
import os
import random
import signal
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import redis

from aibox import app, keys
from aibox.settings import get_settings
from tests.support import QUEUES, wait_for

#: kombu's Redis transport: priority 0 (and no priority) in the bare list, then these suffixes.
PRIORITY_LISTS = ("", "\x06\x163", "\x06\x166", "\x06\x169")
STATES = ("queued", "started", "finished", "failed", "revoked")


def broker_client() -> redis.Redis:
    """A plain client on the broker's database."""
    return redis.Redis.from_url(get_settings().broker)


def broker_lists(queue: str) -> list[str]:
    """A queue's lists, highest priority first."""
    return [queue + suffix for suffix in PRIORITY_LISTS]


def queued_ids(client: redis.Redis, queue: str) -> list[str]:
    """Job ids in the broker lists, in the order workers take them."""
    ids = []
    for key in broker_lists(queue):
        for raw in reversed(client.lrange(key, 0, -1)):
            ids.append(json.loads(raw)["headers"]["id"])
    return ids


def registry_ids(client: redis.Redis, queue: str, state: str) -> list[str]:
    """Job ids of one registry state set, newest first."""
    return [str(m) for m in client.zrevrange(keys.jobs_by_state(queue, state), 0, -1)]


def session_node() -> str:
    """The node name of the session ``worker`` fixture."""
    return f"session-{os.getpid()}@localhost"


def consumed_queues(node: str) -> set[str]:
    """The queues ``node`` consumes right now."""
    replies = app.control.inspect(destination=[node], timeout=5, limit=1).active_queues() or {}
    return {q["name"] for q in replies.get(node, [])}


def active_jobs(node: str) -> list[dict[str, Any]]:
    """The requests ``node`` is running."""
    replies = app.control.inspect(destination=[node], timeout=5, limit=1).active() or {}
    return list(replies.get(node, []))


@contextmanager
def paused(node: str, queues: Iterable[str], *, purge: bool = True) -> Iterator[None]:
    """``node`` stops consuming ``queues``; afterwards (queues purged first, if asked) resumes."""
    names = list(queues)
    for queue in names:
        app.control.cancel_consumer(queue, destination=[node], reply=True, timeout=5)
    wait_for(lambda: not consumed_queues(node) & set(names), timeout=15)
    try:
        yield
    finally:
        if purge:
            with broker_client() as client:
                client.delete(*(key for q in names for key in broker_lists(q)))
        for queue in names:
            app.control.add_consumer(queue, destination=[node], reply=True, timeout=5)
        wait_for(lambda: set(names) <= consumed_queues(node), timeout=15)


@contextmanager
def frozen(pids: Iterable[int]) -> Iterator[None]:
    """SIGSTOP processes (a running job then stays running), SIGCONT them afterwards."""
    stopped = []
    try:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        yield
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)


def pid_running(node: str, job_id: str) -> int:
    """The pool process of ``node`` that runs ``job_id`` (waits until it does)."""

    def find() -> int | None:
        for request in active_jobs(node):
            if request["id"] == job_id and request.get("worker_pid"):
                return int(request["worker_pid"])
        return None

    return int(wait_for(find, timeout=30, interval=0.02))


def wait_started(job_id: str) -> None:
    """Until the registry says the job is running."""

    def started() -> bool:
        state = redis_state(job_id)
        assert state not in {"finished", "failed", "revoked"}, f"{job_id} ended: too short"
        return state == "started"

    wait_for(started, timeout=60, interval=0.01)


def redis_state(job_id: str) -> str | None:
    """The registry state of a job, read from its hash."""
    from aibox.connections import get_redis

    return get_redis().hget(keys.job(job_id), "state")  # type: ignore[return-value]


def stop_all_jobs(node: str) -> None:
    """Terminate whatever ``node`` runs and wait until it runs nothing."""
    running = [r["id"] for r in active_jobs(node)]
    if running:
        app.control.revoke(running, terminate=True, signal="SIGKILL", destination=[node])
    wait_for(lambda: not active_jobs(node), timeout=30, interval=0.2)


def long_text(sentences: int, seed: int = 7) -> bytes:
    """A plain-text document that takes the pipeline a while (~7 s per 40,000 sentences)."""
    words = "Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia".split()
    rng = random.Random(seed)
    return " ".join(
        f"{rng.choice(words)} met {rng.choice(words)} in Paris to discuss report {i}."
        for i in range(sentences)
    ).encode()


SHORT_TEXT = b"# Note\n\nGrace Hopper worked at Harvard University with Howard Aiken.\n"
BINARY = bytes(range(256)) * 64

__all__ = ["QUEUES"]
