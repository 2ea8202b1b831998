"""Operator actions on jobs: retry a failed or revoked job, revoke a queued or running one.

A failed job is retried under its own id, as Celery's ``task.retry`` and RQ's requeue do: the
registry moves it from failed back to queued (``retries`` + 1, last error kept) and its stale
Celery result is forgotten. A revoked job cannot keep its id: every worker remembers revoked
ids (in memory, or for good with ``--statedb``) and would discard the new message, so it is
retried as a new job, linked both ways (``retried_as`` / ``retry_of``), and only once.

Revoking broadcasts Celery's revoke with ``terminate`` (a running job's process gets SIGKILL:
with ``REMAP_SIGTERM=SIGQUIT``, which aibox's workers run with, Celery's pool processes ignore
SIGTERM, so a SIGTERM revoke was acknowledged and the job ran on to its end),
removes a queued job's message from the broker lists so that no worker — not even one started
later, which never saw the broadcast — receives it, and waits a little for the worker to
record a running job revoked, which it does when it sends the signal (and then no longer
lists it as active): the process itself may take a moment longer to stop.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field

from celery.result import AsyncResult

from aibox.celery_app import app
from aibox.connections import get_redis
from aibox.errors import ConflictError, NotFoundError
from aibox.monitoring.broker import open_broker
from aibox.services import file_store, job_registry, status_store
from aibox.store.files import FileRecord
from aibox.store.locks import FileLock
from aibox.store.registry import JobRecord, JobState
from aibox.submit import resubmit

logger = logging.getLogger(__name__)

RETRYABLE: frozenset[str] = frozenset({"failed", "revoked"})
REVOCABLE: frozenset[str] = frozenset({"queued", "started"})


@dataclass(frozen=True)
class Retry:
    """A job queued again: ``job_id`` is the one to follow (the same id for failed jobs)."""

    job_id: str
    original_job_id: str
    queue: str
    file_id: str | None


@dataclass
class BulkRetry:
    """The outcome of retrying every failed job of a queue."""

    queue: str
    retried: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Revocation:
    """What a revoke did; ``state`` is the registry's afterwards."""

    job_id: str
    queue: str
    previous_state: JobState
    state: JobState
    removed_from_broker: bool


def get_job(job_id: str) -> JobRecord:
    """The job's registry record, or NotFoundError."""
    record = job_registry().get(job_id)
    if record is None:
        raise NotFoundError(f"job {job_id} not found")
    return record


def retry_job(job_id: str) -> Retry:
    """Queue a failed or revoked job again with its stored arguments."""
    registry = job_registry()
    job = get_job(job_id)
    if job.state not in RETRYABLE:
        raise ConflictError(f"job {job_id} is {job.state}: only failed or revoked jobs are retried")
    record = _file_to_retry(job)
    if job.state == "failed":
        if registry.requeue(job_id) is None:
            raise ConflictError(f"job {job_id} changed state meanwhile; not retried")
        AsyncResult(job_id, app=app).forget()
        new_id = job_id
    else:
        new_id = str(uuid.uuid4())
        if not registry.link_retry(job_id, new_id):
            raise ConflictError(f"revoked job {job_id} was already retried as {job.retried_as}")
    resubmit(job, record, new_id)
    logger.info("job %s retried as %s on %s", job_id, new_id, job.queue)
    return Retry(job_id=new_id, original_job_id=job_id, queue=job.queue, file_id=job.file_id)


def retry_failed(queue: str) -> BulkRetry:
    """Retry every failed job of ``queue``, oldest failure first; say why any was skipped."""
    outcome = BulkRetry(queue)
    for job_id in job_registry().all_ids(queue, "failed"):
        try:
            outcome.retried.append(retry_job(job_id).job_id)
        except (ConflictError, NotFoundError) as exc:
            outcome.skipped[job_id] = str(exc)
    return outcome


def revoke_job(job_id: str, *, wait_s: float = 10.0) -> Revocation:
    """Revoke a queued or running job; a running one is terminated."""
    registry = job_registry()
    job = get_job(job_id)
    if job.state not in REVOCABLE:
        raise ConflictError(f"job {job_id} is {job.state}: only queued or running jobs are revoked")
    app.control.revoke(job_id, terminate=True, signal="SIGKILL")
    with open_broker(app) as broker:
        removed = broker.remove(job.queue, job_id)
    registry.revoke_queued(job_id)
    state = _wait_while_started(job_id, wait_s)
    if state == "revoked":
        _after_revoke(job)
    return Revocation(job_id, job.queue, job.state, state, removed)


def _file_to_retry(job: JobRecord) -> FileRecord:
    """The job's file, if it still exists and no other job of it is queued or running."""
    record = file_store().get(job.file_id) if job.file_id else None
    if record is None:
        raise ConflictError(f"the file of job {job.job_id} no longer exists; not retried")
    current = job_registry().get(record.job_id) if record.job_id else None
    if current is not None and current.job_id != job.job_id and current.state in REVOCABLE:
        raise ConflictError(
            f"file {record.file_id} has job {current.job_id} {current.state}; not retried"
        )
    return record


def _wait_while_started(job_id: str, wait_s: float) -> JobState:
    deadline = time.monotonic() + wait_s
    while True:
        state = get_job(job_id).state
        if state != "started" or time.monotonic() >= deadline:
            return state
        time.sleep(0.1)


def _after_revoke(job: JobRecord) -> None:
    """Say so on the file if this was its current job, and free its lock at once.

    Celery records the revoke right after sending the signal; SIGKILL leaves the process no
    chance to write on, so the lock can go now. (A killed process never releases it, and a
    retry would otherwise wait for its TTL, longer than a job's busy-file retries last.)
    """
    if not job.file_id:
        return
    # The token check keeps anyone else's lock.
    FileLock(get_redis(), job.file_id, job.job_id, ttl_s=1).release()
    record = file_store().get(job.file_id)
    if record is None or record.job_id != job.job_id:
        return
    message = f"job {job.job_id} was revoked by an administrator"
    file_store().update(job.file_id, status="failed", error=message)
    status_store().update(job.file_id, status="failed", message=message, error=message)
