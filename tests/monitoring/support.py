"""Helpers for the monitoring tests: pausing consumption, publishing, reading Redis directly.

Everything here reads Redis and the workers directly (key names spelled out, JSON parsed by
hand), so that the tests compare the API with the source of truth, not with itself.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import redis
from fastapi.testclient import TestClient

from aibox import app, keys
from aibox.connections import get_redis
from aibox.settings import get_settings
from aibox.tasks import process_file_chunking_and_vectorization_task
from tests.support import QUEUES, wait_for

#: kombu's Redis transport: priority 0 (and no priority) in the bare list, then these suffixes.
PRIORITY_LISTS = ("", "\x06\x163", "\x06\x166", "\x06\x169")
STATES = ("queued", "started", "finished", "failed", "revoked")
DOCS = Path(__file__).resolve().parent.parent / "data" / "docs"
PDF = DOCS / "python-tutorial-appetite.pdf"
V1 = "/api/v1"


def broker_client() -> redis.Redis:
    """A plain client on the broker's database."""
    return redis.Redis.from_url(get_settings().broker)


def broker_lists(queue: str) -> list[str]:
    """A queue's lists, highest priority first."""
    return [queue + suffix for suffix in PRIORITY_LISTS]


def list_lengths(client: redis.Redis, queue: str) -> list[int]:
    """LLEN of each of a queue's lists, highest priority first."""
    return [int(client.llen(key)) for key in broker_lists(queue)]


def queued_ids(client: redis.Redis, queue: str) -> list[str]:
    """Job ids in the broker lists, in the order workers take them (BRPOP: first non-empty
    list in priority order, rightmost message first), then those waiting for their user's
    turn (fair scheduling), user by user in the order of their ids."""
    users = sorted(u.decode() for u in client.lrange(keys.fair_ring(queue), 0, -1))
    ids = []
    for key in [*broker_lists(queue), *(keys.fair_waiting(queue, u) for u in users)]:
        for raw in reversed(client.lrange(key, 0, -1)):
            ids.append(json.loads(raw)["headers"]["id"])
    return ids


def unacked_ids(client: redis.Redis) -> set[str]:
    """Job ids of the messages workers have fetched and not yet acknowledged."""
    return {
        json.loads(raw)[0]["headers"]["id"]
        for raw in client.hvals("unacked")  # [msg, ex, rk]
    }


def registry_ids(queue: str, state: str) -> list[str]:
    """Job ids of one registry state set, newest first (ties: Redis's reverse order)."""
    return [str(m) for m in get_redis().zrevrange(keys.jobs_by_state(queue, state), 0, -1)]


def registry_state(job_id: str) -> str | None:
    """The registry state of a job, read from its hash."""
    return get_redis().hget(keys.job(job_id), "state")  # type: ignore[return-value]


def registry_field(job_id: str, name: str) -> str | None:
    """One field of a job's registry hash."""
    return get_redis().hget(keys.job(job_id), name)  # type: ignore[return-value]


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


def pid_running(node: str, job_id: str) -> int:
    """The pool process of ``node`` that runs ``job_id`` (waits until it does)."""

    def find() -> int | None:
        for request in active_jobs(node):
            if request["id"] == job_id and request.get("worker_pid"):
                return int(request["worker_pid"])
        return None

    return int(wait_for(find, timeout=60, interval=0.2))


def process_gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie not yet reaped counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


@contextmanager
def frozen(pid: int) -> Iterator[None]:
    """SIGSTOP a process (deaf to every signal but SIGKILL), SIGCONT it afterwards if alive."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


@contextmanager
def paused(node: str, queues: Iterable[str], *, purge: bool = True) -> Iterator[None]:
    """``node`` stops consuming ``queues``; afterwards (queues purged first, if asked) resumes."""
    names = list(queues)
    try:
        for queue in names:
            app.control.cancel_consumer(queue, destination=[node], reply=True, timeout=5)
        wait_for(lambda: not consumed_queues(node) & set(names), timeout=30, interval=0.2)
        # A BRPOP the worker sent before the cancel may still name the queue; it returns
        # within kombu's brpop_timeout (1 s). Not an assertion: only a safety margin.
        time.sleep(1.5)
        yield
    finally:
        if purge:
            with broker_client() as client:
                waiting = [k for q in names for k in client.scan_iter(match=keys.fair_pattern(q))]
                client.delete(*(key for q in names for key in broker_lists(q)), *waiting)
        for queue in names:
            app.control.add_consumer(queue, destination=[node], reply=True, timeout=5)
        wait_for(lambda: set(names) <= consumed_queues(node), timeout=30, interval=0.2)


def publish(file_id: str, priority: int | None = None) -> str:
    """Queue a file_processing job for ``file_id`` (which need not exist); its id."""
    options: dict[str, Any] = {} if priority is None else {"priority": priority}
    result = process_file_chunking_and_vectorization_task.apply_async(
        kwargs={"file_id": file_id, "user_id": "nobody"}, **options
    )
    return str(result.id)


def upload(api: TestClient, name: str, content: bytes, mime: str = "text/plain") -> dict[str, Any]:
    """Upload one file through the API; its file id and job id."""
    response = api.post(f"{V1}/files", files={"file": (name, content, mime)})
    assert response.status_code == 202, response.text
    return dict(response.json()["data"])


def file_status(api: TestClient, file_id: str) -> dict[str, Any]:
    """The file's processing status, as its owner reads it."""
    return dict(api.get(f"{V1}/files/{file_id}/status").json()["data"])


def wait_until_done(api: TestClient, file_id: str, timeout: float = 120) -> dict[str, Any]:
    """The file's status once it has completed or failed."""

    def done() -> dict[str, Any] | None:
        status = file_status(api, file_id)
        return status if status["status"] in {"completed", "failed"} else None

    return dict(wait_for(done, timeout=timeout, interval=0.2))


def wait_state(job_id: str, states: set[str], timeout: float = 120) -> str:
    """Until the registry has the job in one of ``states``; that state."""
    return str(
        wait_for(lambda: (s := registry_state(job_id)) in states and s, timeout, interval=0.1)
    )


def page_through(
    admin: TestClient, queue: str, status: str | None, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Every job of a listing, following ``next_cursor``; the jobs and the number of pages."""
    jobs: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": limit}
        if status is not None:
            params["status"] = status
        if cursor is not None:
            params["cursor"] = cursor
        response = admin.get(f"{V1}/queues/{queue}/jobs", params=params)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["count"] == len(data["jobs"]) <= limit
        jobs.extend(data["jobs"])
        pages += 1
        assert pages < 100, "the cursor never ends"
        cursor = data["next_cursor"]
        if cursor is None:
            return jobs, pages


def corrupt_pdf(salt: str = "") -> bytes:
    """A PDF cut to a third: the parser fails on it with a permanent error. Uploads are
    deduplicated by content, so a ``salt`` (a trailing PDF comment) makes each one new."""
    data = PDF.read_bytes()
    return data[: len(data) // 3] + (f"\n%{salt}\n".encode() if salt else b"")


SHORT_TEXT = b"# Note\n\nGrace Hopper worked at Harvard University with Howard Aiken.\n"

__all__ = ["QUEUES"]
