"""Bodies of aibox's monitoring endpoints (admin only), in aibox's own shapes.

They say more than the old RQ monitoring API did (per-state counts with ``revoked`` and
``total``, cursors, every running job of a worker) and differ from it: the counts are under
``queues``, timestamps are Unix seconds (as in :class:`JobPublic`), a worker's first job is
``current_job_id``. A few RQ-era names are kept as aliases (``func_name`` for ``task``,
``status`` for ``state``). The old shapes themselves are served, unchanged, under
``/api/v1/rq`` (:mod:`aibox.api.schemas_rq`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aibox.monitoring.listing import ListedJob, QueueStats
from aibox.store.registry import JobRecord, JobState


class QueueList(BaseModel):
    """The queues, with how many messages each holds in the broker."""

    queues: list[str]
    count: int
    lengths: dict[str, int] = Field(description="messages waiting per queue (all priorities)")


class QueueStatsPublic(BaseModel):
    """Jobs of one queue per state: queued from the broker, the rest from the registry."""

    queue_name: str
    queued: int
    started: int
    finished: int
    failed: int
    revoked: int
    total: int = Field(description="the sum of the five states")


class QueuesStats(BaseModel):
    """Every queue's counts, by queue name."""

    queues: dict[str, QueueStatsPublic]


class UserQueuedPublic(BaseModel):
    """One user's queued jobs on one queue."""

    user_id: str
    queue: str
    queued: int
    oldest_queued_at: float = Field(description="when the longest-waiting one was queued (epoch s)")
    oldest_wait_s: float = Field(description="how long the longest-waiting one has been queued")


class UsersQueued(BaseModel):
    """Every user with queued jobs, per queue; the longest-waiting first."""

    users: list[UserQueuedPublic]
    count: int
    limit: int = Field(description="most jobs one user may have queued (0: no limit)")


class JobSummary(BaseModel):
    """A job in a queue listing."""

    job_id: str
    task: str
    func_name: str = Field(description="the old API's name for ``task``")
    queue: str
    state: JobState
    status: JobState = Field(description="the old API's name for ``state``")
    file_id: str | None = None
    user_id: str | None = None
    created_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    retries: int = 0
    worker: str | None = None
    error: str | None = None
    priority: int | None = Field(default=None, description="a queued message's own priority")
    retry_of: str | None = None
    retried_as: str | None = None


class JobDetail(JobSummary):
    """One job with its error's traceback and the arguments a retry would use."""

    traceback: str | None = None
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)


class JobPage(BaseModel):
    """One page of a queue's jobs; pass ``next_cursor`` back as ``cursor`` for the next."""

    jobs: list[JobSummary]
    count: int
    next_cursor: str | None = None


class WorkerJobPublic(BaseModel):
    """A job a worker runs or holds."""

    model_config = ConfigDict(from_attributes=True)

    job_id: str
    task: str
    file_id: str | None = None
    worker_pid: int | None = None


class WorkerPublic(BaseModel):
    """A worker, as it answered Celery's remote control."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    state: str = Field(description="busy (running jobs) or idle")
    queues: list[str]
    current_job_id: str | None = None
    current_jobs: list[WorkerJobPublic]
    reserved_jobs: list[WorkerJobPublic]
    concurrency: int | None = None
    pid: int | None = None
    processed: int = Field(description="tasks this worker has received since it started")
    birth_date: str | None = Field(default=None, description="ISO 8601, UTC")


class WorkerList(BaseModel):
    """Every worker that answered within the timeout."""

    workers: list[WorkerPublic]
    count: int


class RetryPublic(BaseModel):
    """A job queued again; follow ``job_id`` (a failed job keeps its id, a revoked one not)."""

    model_config = ConfigDict(from_attributes=True)

    job_id: str
    original_job_id: str
    queue: str
    file_id: str | None = None
    state: JobState = "queued"


class BulkRetryPublic(BaseModel):
    """Which failed jobs of a queue were queued again, and why any others were not."""

    queue: str
    retried: list[str]
    count: int
    skipped: dict[str, str]


class RevocationPublic(BaseModel):
    """A revoked job; ``state`` stays ``started`` if its worker has not confirmed yet."""

    model_config = ConfigDict(from_attributes=True)

    job_id: str
    queue: str
    previous_state: JobState
    state: JobState
    removed_from_broker: bool = Field(description="its message was taken out of the queue")


def stats_public(stats: QueueStats) -> QueueStatsPublic:
    """The API shape of a queue's counts."""
    return QueueStatsPublic(
        queue_name=stats.queue_name,
        queued=stats.queued,
        started=stats.started,
        finished=stats.finished,
        failed=stats.failed,
        revoked=stats.revoked,
        total=stats.total,
    )


def job_summary(listed: ListedJob) -> JobSummary:
    """The API shape of a listed job."""
    return JobSummary.model_validate(_fields(listed.job) | {"priority": listed.priority})


def job_detail(job: JobRecord) -> JobDetail:
    """The API shape of one job, traceback and arguments included."""
    return JobDetail.model_validate(_fields(job))


def _fields(job: JobRecord) -> dict[str, Any]:
    return job.model_dump() | {"func_name": job.task, "status": job.state}
