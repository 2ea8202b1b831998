"""Submitting jobs for files: the one path the API and the CLI use to enqueue work.

A file has at most one queued or running job from ``submit_job``: a second submission while
one is queued or started is refused with :class:`ConflictError` naming that job. The check
and the job's record in the registry are one atomic step (:meth:`JobRegistry.claim`), taken
before anything is published, so concurrent requests, in any number of API processes, see
either no active job and record theirs, or the job the winner recorded. The registry is what
says a job is still active, so nothing has to be cleaned up when a job ends. A job the
registry still shows queued whose message was lost keeps blocking until it is revoked (its id
is in the conflict's data).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Literal

from celery import Task
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from aibox.errors import ConflictError, EnqueueError, describe_error
from aibox.fairness import Place, fair_pool, publishing_as
from aibox.services import file_store, job_registry, status_store
from aibox.settings import get_settings
from aibox.store.files import FileRecord
from aibox.store.registry import JobRecord, recorded_by_publisher
from aibox.tasks import (
    process_file_chunking_and_vectorization_task,
    process_kg_extraction_only_task,
    process_vectorization_only_task,
)

logger = logging.getLogger(__name__)

JobKind = Literal["full", "vector", "graph"]

TASKS: dict[JobKind, Task] = {
    "full": process_file_chunking_and_vectorization_task,
    "vector": process_vectorization_only_task,
    "graph": process_kg_extraction_only_task,
}
TASKS_BY_NAME: dict[str, Task] = {task.name: task for task in TASKS.values()}


def submit_job(
    record: FileRecord,
    kind: JobKind = "full",
    *,
    force_rechunk: bool = False,
    job_id: str | None = None,
) -> str:
    """Queue a ``kind`` job for the file and return its job id (``job_id``, or a new one).

    Raises :class:`ConflictError` (with the active job in its data) while the file has a
    queued or running job. The status record and the file's current job are set before
    publishing, so a worker that starts at once finds them; a failed publish marks both
    failed and raises.
    """
    task, job_id = TASKS[kind], job_id or str(uuid.uuid4())
    kwargs = task_kwargs(record, force_rechunk=force_rechunk)
    settings = get_settings()
    active = job_registry().claim(
        job_id,
        task=task.name,
        queue=queue_of(task),
        file_id=record.file_id,
        user_id=record.user_id,
        args=[],
        kwargs=kwargs,
        limit=settings.max_queued_jobs_per_user,
        retry_after_s=settings.queue_limit_retry_after_s,
    )
    if active is not None:
        raise _conflict(record.file_id, *active)
    token = recorded_by_publisher.set(job_id)
    try:
        _publish(task, record, job_id, [], kwargs, "back", recorded=True)
    finally:
        recorded_by_publisher.reset(token)
    return job_id


def queue_of(task: Task) -> str:
    """The queue ``task`` is routed to."""
    return str(task.app.conf.task_routes[task.name]["queue"])


def _conflict(file_id: str, job_id: str, state: str) -> ConflictError:
    job = job_registry().get(job_id)
    data: dict[str, object] = {"file_id": file_id, "job_id": job_id, "state": state}
    if job is not None:
        data.update(queue=job.queue, task=job.task)
    return ConflictError(
        f"file {file_id} already has job {job_id} "
        f"{'running' if state == 'started' else 'queued'}; try again when it has ended",
        data=data,
    )


def resubmit(job: JobRecord, record: FileRecord, job_id: str) -> None:
    """Queue ``job``'s task again for its file, with its stored arguments, as ``job_id``.

    ``job_id`` is the job's own id or a new one (see ``aibox.monitoring.jobs``). A job
    recorded before arguments were stored gets the arguments ``submit_job`` would give it.
    """
    task = TASKS_BY_NAME.get(job.task)
    if task is None:
        raise ConflictError(f"job {job.job_id} runs {job.task!r}, which aibox cannot queue")
    kwargs = job.kwargs or task_kwargs(record, force_rechunk=False)
    # Under its own id the job is queued in the registry again already; a new id is recorded
    # by the publish hook.
    recorded = job_id == job.job_id
    _publish(task, record, job_id, job.args, kwargs, "front", recorded=recorded)


def task_kwargs(record: FileRecord, *, force_rechunk: bool) -> dict[str, Any]:
    """The keyword arguments every file task takes (the seed's names)."""
    return {
        "file_id": record.file_id,
        "file_path": file_store().location(record),
        "file_type": record.file_type,
        "user_id": record.user_id,
        "force_rechunk": force_rechunk,
    }


def _publish(
    task: Task,
    record: FileRecord,
    job_id: str,
    args: list[Any],
    kwargs: dict[str, Any],
    place: Place,
    *,
    recorded: bool,
) -> None:
    """Publish the job: in its user's turn (``place`` in the user's line, or first if the
    user has nothing else queued on the queue) when fair scheduling is on. ``recorded``: the
    registry has the job queued already (it counts among the user's queued jobs)."""
    try:
        status_store().queued(record.file_id, job_id, task.stages)
        if (record.status, record.job_id, record.error) != ("queued", job_id, None):
            # (A record committed for this job is queued for it already.)
            file_store().update(record.file_id, status="queued", job_id=job_id, error=None)
        if not (get_settings().fair_scheduling and record.user_id):
            task.apply_async(args=args, kwargs=kwargs, task_id=job_id)
            return
        others = job_registry().queued_of_user(record.user_id, queue_of(task)) - recorded
        if others <= 0:
            place = "first"
        with (
            fair_pool(task.app).acquire(block=True) as connection,
            publishing_as(record.user_id, place),
        ):
            task.apply_async(args=args, kwargs=kwargs, task_id=job_id, connection=connection)
    except (OperationalError, RedisError) as exc:
        message = f"could not queue the job: {describe_error(exc)}"
        logger.error("enqueue of %s for file %s failed: %s", task.name, record.file_id, message)
        _mark_enqueue_failed(record, job_id, queue_of(task), message)
        raise EnqueueError(message) from exc


def _mark_enqueue_failed(record: FileRecord, job_id: str, queue: str, message: str) -> None:
    try:
        file_store().update(record.file_id, status="failed", error=message)
        status_store().update(record.file_id, status="failed", message=message, error=message)
        job_registry().failed(job_id, queue=queue, error=message, traceback=None)
    except RedisError:
        logger.exception("could not record the failed enqueue of job %s", job_id)
