"""Workers as they describe themselves over Celery's remote control (``inspect``).

One broadcast (``active_queues``) finds every worker that answers within the timeout; the
follow-up calls (``active``, ``reserved``, ``stats``) go to exactly those workers and return as
soon as each has replied, so a listing costs about one timeout, not four.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from celery import Celery


@dataclass(frozen=True)
class WorkerJob:
    """A job a worker holds: running (``active``) or fetched and waiting (``reserved``)."""

    job_id: str
    task: str
    file_id: str | None = None
    worker_pid: int | None = None


@dataclass(frozen=True)
class WorkerInfo:
    """One worker: its queues, what it runs and holds, its pool and uptime."""

    name: str
    state: str
    queues: list[str]
    current_jobs: list[WorkerJob] = field(default_factory=list)
    reserved_jobs: list[WorkerJob] = field(default_factory=list)
    concurrency: int | None = None
    pid: int | None = None
    processed: int = 0
    birth_date: str | None = None

    @property
    def current_job_id(self) -> str | None:
        """The first running job: the old API's single ``current_job`` (aibox's own API
        calls it ``current_job_id`` and lists every one in ``current_jobs``)."""
        return self.current_jobs[0].job_id if self.current_jobs else None


def list_workers(app: Celery, timeout_s: float = 1.0) -> list[WorkerInfo]:
    """Every worker that answers within ``timeout_s``, by name."""
    queues: dict[str, list[dict[str, Any]]] = (
        app.control.inspect(timeout=timeout_s).active_queues() or {}
    )
    if not queues:
        return []
    names = sorted(queues)
    targeted = app.control.inspect(destination=names, timeout=timeout_s, limit=len(names))
    active: dict[str, list[dict[str, Any]]] = targeted.active() or {}
    reserved: dict[str, list[dict[str, Any]]] = targeted.reserved() or {}
    stats: dict[str, dict[str, Any]] = targeted.stats() or {}
    return [
        _worker(name, queues[name], active.get(name, []), reserved.get(name, []), stats.get(name))
        for name in names
    ]


def _worker(
    name: str,
    queues: list[dict[str, Any]],
    active: list[dict[str, Any]],
    reserved: list[dict[str, Any]],
    stats: dict[str, Any] | None,
) -> WorkerInfo:
    stats = stats or {}
    pool = stats.get("pool") or {}
    uptime = stats.get("uptime")
    born = (
        datetime.fromtimestamp(time.time() - uptime, UTC).isoformat()
        if isinstance(uptime, (int, float))
        else None
    )
    return WorkerInfo(
        name=name,
        state="busy" if active else "idle",
        queues=[str(q.get("name")) for q in queues],
        current_jobs=[_job(request) for request in active],
        reserved_jobs=[_job(request) for request in reserved],
        concurrency=pool.get("max-concurrency"),
        pid=stats.get("pid"),
        processed=sum((stats.get("total") or {}).values()),
        birth_date=born,
    )


def _job(request: dict[str, Any]) -> WorkerJob:
    kwargs = request.get("kwargs")
    pid = request.get("worker_pid")
    return WorkerJob(
        job_id=str(request.get("id")),
        task=str(request.get("name")),
        file_id=kwargs.get("file_id") if isinstance(kwargs, dict) else None,
        worker_pid=pid if isinstance(pid, int) else None,
    )
