"""Submitting jobs for files: the one path the API and the CLI use to enqueue work.

A file has at most one queued or running job from ``submit_job``: a second submission while
one is queued or started is refused with :class:`ConflictError` naming that job. The check
and the publish run inside a per-file *submission slot* (``SET NX PX`` on one Redis key), and
publishing records the new job as queued in the registry (the ``before_task_publish`` signal)
before the slot is released, so concurrent requests, in any number of API processes, see
either no job and take the slot, or the job the winner queued. The slot's TTL frees a slot
whose holder died; the registry, not the slot, is what says a job is still active, so nothing
has to be cleaned up when a job ends. A job the registry still shows queued whose message was
lost keeps blocking until it is revoked (its id is in the conflict's data).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from celery import Task
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from aibox.connections import get_redis
from aibox.errors import AiboxError, ConflictError, describe_error
from aibox.files import FileRecord
from aibox.locks import release_if_owner
from aibox.registry import JobRecord
from aibox.services import file_store, job_registry, status_store
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

#: Registry states of a job that still holds its file.
ACTIVE_STATES = frozenset({"queued", "started"})
# A slot is held for one check and one publish (milliseconds); its TTL only frees the slot of
# a process that died holding it, and a waiter gives up after as long.
_SLOT_TTL_MS = 10_000
_SLOT_POLL_S = 0.02


class EnqueueError(AiboxError):
    """Raised when a job could not be handed to the broker; nothing was queued."""


def submit_job(record: FileRecord, kind: JobKind = "full", *, force_rechunk: bool = False) -> str:
    """Queue a ``kind`` job for the file and return its job id.

    Raises :class:`ConflictError` (with the active job in its data) while the file has a
    queued or running job. The status record and the file's current job are set before
    publishing, so a worker that starts at once finds them; a failed publish marks both
    failed and raises.
    """
    job_id = str(uuid.uuid4())
    kwargs = task_kwargs(record, force_rechunk=force_rechunk)
    with submission_slot(record.file_id):
        active = active_job(record.file_id)
        if active is not None:
            raise ConflictError(
                f"file {record.file_id} already has job {active.job_id} "
                f"{'running' if active.state == 'started' else 'queued'}; "
                "try again when it has ended",
                data=_conflict_data(record.file_id, active),
            )
        _publish(TASKS[kind], record, job_id, [], kwargs)
    return job_id


def active_job(file_id: str) -> JobRecord | None:
    """The file's most recent job that is queued or running, if any."""
    active = [j for j in job_registry().jobs_of_file(file_id) if j.state in ACTIVE_STATES]
    return active[-1] if active else None


def submission_slot_key(file_id: str) -> str:
    """The Redis key serialising job submissions for one file."""
    return f"aibox:submit:file:{file_id}"


@contextmanager
def submission_slot(file_id: str) -> Iterator[None]:
    """Hold the file's submission slot; wait while another request holds it."""
    client = get_redis()
    key, token = submission_slot_key(file_id), uuid.uuid4().hex
    deadline = time.monotonic() + _SLOT_TTL_MS / 1000
    while not client.set(key, token, nx=True, px=_SLOT_TTL_MS):
        if time.monotonic() > deadline:
            raise ConflictError(
                f"another job is being queued for file {file_id}; try again",
                data={"file_id": file_id},
            )
        time.sleep(_SLOT_POLL_S)
    try:
        yield
    finally:
        try:
            release_if_owner(client, key, token)
        except RedisError:
            logger.warning("could not release %s; it expires by itself", key)


def _conflict_data(file_id: str, job: JobRecord) -> dict[str, object]:
    return {
        "file_id": file_id,
        "job_id": job.job_id,
        "state": job.state,
        "queue": job.queue,
        "task": job.task,
    }


def resubmit(job: JobRecord, record: FileRecord, job_id: str) -> None:
    """Queue ``job``'s task again for its file, with its stored arguments, as ``job_id``.

    ``job_id`` is the job's own id or a new one (see ``aibox.monitoring.jobs``). A job
    recorded before arguments were stored gets the arguments ``submit_job`` would give it.
    """
    task = TASKS_BY_NAME.get(job.task)
    if task is None:
        raise ConflictError(f"job {job.job_id} runs {job.task!r}, which aibox cannot queue")
    kwargs = job.kwargs or task_kwargs(record, force_rechunk=False)
    _publish(task, record, job_id, job.args, kwargs)


def task_kwargs(record: FileRecord, *, force_rechunk: bool) -> dict[str, Any]:
    """The keyword arguments every file task takes (the seed's names)."""
    return {
        "file_id": record.file_id,
        "file_path": str(file_store().path_of(record)),
        "file_type": record.file_type,
        "user_id": record.user_id,
        "force_rechunk": force_rechunk,
    }


def _publish(
    task: Task, record: FileRecord, job_id: str, args: list[Any], kwargs: dict[str, Any]
) -> None:
    status_store().queued(record.file_id, job_id, task.stages)
    file_store().update(record.file_id, status="queued", job_id=job_id, error=None)
    try:
        task.apply_async(args=args, kwargs=kwargs, task_id=job_id)
    except (OperationalError, RedisError) as exc:
        message = f"could not queue the job: {describe_error(exc)}"
        logger.error("enqueue of %s for file %s failed: %s", task.name, record.file_id, message)
        _mark_enqueue_failed(record, job_id, task.app.conf.task_routes[task.name]["queue"], message)
        raise EnqueueError(message) from exc


def _mark_enqueue_failed(record: FileRecord, job_id: str, queue: str, message: str) -> None:
    try:
        file_store().update(record.file_id, status="failed", error=message)
        status_store().update(record.file_id, status="failed", message=message, error=message)
        if job_registry().get(job_id) is not None:
            job_registry().failed(job_id, queue=queue, error=message, traceback=None)
    except RedisError:
        logger.exception("could not record the failed enqueue of job %s", job_id)
