"""Bodies of the old RQ system's monitoring API, kept field for field (``/api/v1/rq/...``).

These are the shapes its dashboards and scripts parse: ``{"success": true, "data": ...}``
with no ``message``, four states per queue, ``created_at`` as ISO 8601 UTC with ``Z``, and
a worker's single ``current_job``. aibox's own monitoring API (``/api/v1/queues``,
``/api/v1/workers``) says more in its own shapes; these stay as they were.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel

from aibox.monitoring.listing import QueueStats
from aibox.monitoring.workers import WorkerInfo
from aibox.store.registry import JobRecord, JobState

T = TypeVar("T")

#: RQ's name for each aibox job state (RQ calls a revoked job canceled).
RqStatus = Literal["queued", "started", "finished", "failed", "canceled"]
RQ_STATUS: dict[JobState, RqStatus] = {
    "queued": "queued",
    "started": "started",
    "finished": "finished",
    "failed": "failed",
    "revoked": "canceled",
}
AIBOX_STATE: dict[RqStatus, JobState] = {rq: state for state, rq in RQ_STATUS.items()}


class RqEnvelope(BaseModel, Generic[T]):
    """The old API's answer: ``success`` and ``data``, nothing else."""

    success: bool = True
    data: T


class RqQueueCounts(BaseModel):
    """One queue's jobs in RQ's four registries."""

    queued: int
    started: int
    finished: int
    failed: int


class RqJob(BaseModel):
    """A job as the old API listed it."""

    job_id: str
    status: RqStatus
    file_id: str | None
    user_id: str | None
    created_at: str | None


class RqJobDetail(RqJob):
    """One job, with its error (None unless it failed)."""

    error: str | None


class RqJobList(BaseModel):
    """A queue's jobs in one status."""

    jobs: list[RqJob]
    count: int


class RqWorker(BaseModel):
    """A worker as the old API listed it."""

    name: str
    queues: list[str]
    state: Literal["idle", "busy"]
    current_job: str | None


class RqWorkerList(BaseModel):
    """Every worker that answered."""

    workers: list[RqWorker]


def iso_utc(timestamp: float | None) -> str | None:
    """Unix seconds as ``2025-12-12T12:00:00Z`` (whole seconds, UTC), as the old API wrote."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(int(timestamp), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rq_counts(stats: QueueStats) -> RqQueueCounts:
    """RQ's four counts (a revoked job was in none of RQ's registries it showed)."""
    return RqQueueCounts(
        queued=stats.queued, started=stats.started, finished=stats.finished, failed=stats.failed
    )


def rq_job(job: JobRecord) -> RqJob:
    """A registry record in the old listing's shape."""
    return RqJob(
        job_id=job.job_id,
        status=RQ_STATUS[job.state],
        file_id=job.file_id,
        user_id=job.user_id,
        created_at=iso_utc(job.created_at),
    )


def rq_job_detail(job: JobRecord) -> RqJobDetail:
    """A registry record in the old detail's shape."""
    return RqJobDetail(**rq_job(job).model_dump(), error=job.error)


def rq_worker(worker: WorkerInfo) -> RqWorker:
    """A worker in the old shape: ``busy`` with its first running job, else ``idle``."""
    return RqWorker(
        name=worker.name,
        queues=list(worker.queues),
        state="busy" if worker.current_jobs else "idle",
        current_job=worker.current_job_id,
    )
