"""What the three tasks share: the retry policy, progress reporting and failure bookkeeping.

Tasks stay thin: they load the stored file record (the truth, not their arguments), hand a
reporter to a pipeline function, and raise on failure so Celery, Flower and the job registry
all see FAILURE. Transient errors retry with capped exponential backoff and jitter; anything
else fails at once with its message in the file's status.
"""

from __future__ import annotations

from typing import Any

import redis
from celery import Task
from celery.exceptions import Ignore

from aibox.connection_loss import ReliableTask
from aibox.connections import get_redis
from aibox.deletion import remove_file_data
from aibox.errors import FileBusyError, FileNotFoundInStoreError, TransientError, user_message
from aibox.services import file_store, job_registry, status_store
from aibox.settings import get_settings
from aibox.store.files import FileRecord
from aibox.store.locks import FileLock

_settings = get_settings()

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    redis.ConnectionError,
    redis.TimeoutError,
    redis.BusyLoadingError,
)


class FileTask(ReliableTask):
    """Base class of aibox's file tasks."""

    abstract = True
    autoretry_for = TRANSIENT_ERRORS
    max_retries = _settings.task_max_retries
    retry_backoff = 2
    retry_backoff_max = _settings.task_retry_backoff_max_s
    retry_jitter = True
    #: The status stages this task runs; reset when it is queued.
    stages: tuple[str, ...] = ()

    def begin(self, file_id: str, *, user_id: str | None, file_path: str | None) -> FileRecord:
        """Load the job's file record and lock the file; mark it running.

        A delivery of a job that already succeeded (a message redelivered after its worker
        died between finishing and acknowledging) does nothing. While another job holds the
        file, this one waits and retries, so two jobs never interleave writes on a file.
        """
        if self.AsyncResult(self.request.id).state == "SUCCESS":
            job_registry().finished(self.request.id, queue=self._queue())
            raise Ignore()
        record = file_store().load_for_job(file_id, user_id=user_id, file_path=file_path)
        lock = FileLock(get_redis(), file_id, self.request.id, _settings.visibility_timeout_s)
        if not lock.acquire():
            # Wait as long as the holder runs: always one retry more than so far (Celery reads
            # max_retries=None as "the task's limit", 5). Celery also keeps an explicit limit on
            # the task object for the process's next autoretry; drop it.
            retry = self.retry(
                exc=FileBusyError(f"file {file_id} is busy with job {lock.holder()}"),
                countdown=_settings.file_busy_retry_s,
                max_retries=self.request.retries + 1,
                throw=False,
            )
            if "override_max_retries" in self.__dict__:
                del self.override_max_retries
            raise retry
        self.request.file_lock = lock
        file_store().update(file_id, status="processing", job_id=self.request.id, error=None)
        status_store().update(
            file_id, status="processing", stage="started", message="processing started"
        )
        return record

    def after_return(self, *args: Any, **kwargs: Any) -> None:
        """Release the file's lock, however the job ended."""
        lock = getattr(self.request, "file_lock", None)
        if lock is not None:
            lock.release()
            self.request.file_lock = None

    def _queue(self) -> str:
        info = self.request.delivery_info or {}
        return str(info.get("routing_key") or "unknown")

    def reporter(self, file_id: str) -> TaskReporter:
        """A pipeline reporter publishing to the task state and the status record."""
        return TaskReporter(self, file_id)

    def complete(self, record: FileRecord, summary: dict[str, Any]) -> dict[str, Any]:
        """Mark the file's processing completed and return the task's result.

        If the file was deleted meanwhile, remove what this job wrote and fail instead.
        """
        file_id = record.file_id
        if file_store().get(file_id) is None:
            remove_file_data(record)
            raise FileNotFoundInStoreError(f"file {file_id} was deleted while being processed")
        file_store().update(file_id, status="completed", error=None)
        status_store().update(
            file_id,
            status="completed",
            stage="completed",
            progress=100,
            message="processing completed",
        )
        return summary

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        """Record the failure, with a message a user can read, on the file and its status."""
        file_id = (kwargs or {}).get("file_id")
        if not file_id:
            return
        message = user_message(exc)
        try:
            if file_store().get(file_id) is None:
                return  # deleted: nothing to report on, and no status key to re-create
            stage = self._current_stage(file_id)
            file_store().update(file_id, status="failed", error=message)
            status_store().update(
                file_id,
                status="failed",
                stage=stage or "failed",
                message=f"processing failed: {message}",
                error=message,
                stages={stage: {"status": "failed", "message": "failed", "error": message}}
                if stage
                else None,
            )
        except redis.RedisError:
            # The job is FAILURE in Celery and the registry regardless; don't mask exc.
            pass

    def on_retry(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        """Say in the status that the job will be retried, and why.

        Not when it waits for a busy file: the status belongs to the job running on it.
        """
        file_id = (kwargs or {}).get("file_id")
        if file_id and not isinstance(exc, FileBusyError):
            status_store().update(
                file_id,
                status="queued",
                stage="retrying",
                message=f"temporary failure, retrying: {user_message(exc)}",
            )

    def _current_stage(self, file_id: str) -> str | None:
        record = status_store().get(file_id) or {}
        stage = record.get("stage")
        return stage if stage in {"chunking", "vectorization", "storage", "kg_extraction"} else None


class TaskReporter:
    """Publishes pipeline progress as Celery PROGRESS state and in ``processing:status``."""

    def __init__(self, task: Task, file_id: str) -> None:
        self.task = task
        self.file_id = file_id

    def __call__(self, stage: str, overall: int, message: str, /, **fields: Any) -> None:
        """Report ``overall`` progress (0–100) in ``stage``; ``fields`` go to the stage's record."""
        status_store().update(
            self.file_id,
            status="processing",
            stage=stage,
            progress=overall,
            message=message,
            stages={stage: {"message": message, **fields}},
        )
        self.task.update_state(
            state="PROGRESS",
            meta={
                "file_id": self.file_id,
                "stage": stage,
                "progress": overall,
                "message": message,
            },
        )
