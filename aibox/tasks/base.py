"""What the three tasks share: the retry policy, progress reporting and failure bookkeeping.

Tasks stay thin: they load the stored file record (the truth, not their arguments), hand a
reporter to a pipeline function, and raise on failure so Celery, Flower and the job registry
all see FAILURE. Transient errors retry with capped exponential backoff and jitter; anything
else fails at once with its message in the file's status.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, NoReturn

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

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    redis.ConnectionError,
    redis.TimeoutError,
    redis.BusyLoadingError,
    # READONLY: the server is a replica (a failover demoted it, or the URL names a replica).
    # It passes once the URL reaches a primary again: retried, with a line saying what to fix.
    redis.ReadOnlyError,
)
#: What an operator reads when Redis refuses writes.
READ_ONLY_HINT = (
    "Redis refused a write (%s) while job %s ran: the server at AIBOX_REDIS_URL is a read-only "
    "replica. Point AIBOX_REDIS_URL at the primary (`redis-cli -u URL role` says which it is); "
    "the job retries with backoff meanwhile"
)


class FileTask(ReliableTask):
    """Base class of aibox's file tasks.

    The retry limits are read from the settings when Celery asks for them (when a worker
    builds its tasks, and at each retry), not when this module is imported; assigning one
    (a test does) overrides the setting for this task.
    """

    abstract = True
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 2
    retry_jitter = True
    #: The status stages this task runs; reset when it is queued.
    stages: tuple[str, ...] = ()
    _overrides: dict[str, int] | None = None

    @property
    def max_retries(self) -> int:
        """Retries of a transient error before the job fails (AIBOX_TASK_MAX_RETRIES)."""
        return self._setting("max_retries", get_settings().task_max_retries)

    @max_retries.setter
    def max_retries(self, value: int) -> None:
        self._override("max_retries", value)

    @max_retries.deleter
    def max_retries(self) -> None:
        self._override("max_retries", None)

    @property
    def retry_backoff_max(self) -> int:
        """The longest wait between retries (AIBOX_TASK_RETRY_BACKOFF_MAX_S)."""
        return self._setting("retry_backoff_max", get_settings().task_retry_backoff_max_s)

    @retry_backoff_max.setter
    def retry_backoff_max(self, value: int) -> None:
        self._override("retry_backoff_max", value)

    @retry_backoff_max.deleter
    def retry_backoff_max(self) -> None:
        self._override("retry_backoff_max", None)

    def _setting(self, name: str, default: int) -> int:
        return (self._overrides or {}).get(name, default)

    def _override(self, name: str, value: int | None) -> None:
        """Set (or with None, drop) this task's own value instead of the setting's."""
        overrides = {k: v for k, v in (self._overrides or {}).items() if k != name}
        self._overrides = overrides if value is None else {**overrides, name: value}

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
        settings = get_settings()
        lock = FileLock(get_redis(), file_id, self.request.id, settings.visibility_timeout_s)
        if not lock.acquire():
            self._wait_for(file_id, lock, settings.file_busy_retry_s)
        self.request.file_lock = lock
        file_store().update(file_id, status="processing", job_id=self.request.id, error=None)
        status_store().update(
            file_id, status="processing", stage="started", message="processing started"
        )
        return record

    def _wait_for(self, file_id: str, lock: FileLock, seconds: int) -> NoReturn:
        """Come back in ``seconds``: another job holds the file.

        Waiting is not failing: the message is published again as it came (same id, same
        retry count) with a countdown, and this delivery ends without a state of its own
        (Ignore), so a job waits as long as the holder runs and never uses up its retries.
        The registry counts the waits; Celery and Flower show RETRY with the reason.
        """
        holder = lock.holder()
        reason = FileBusyError(f"file {file_id} is busy with job {holder}")
        job_registry().waited(self.request.id, holder=holder)
        self.backend.mark_as_retry(self.request.id, reason, request=self.request)
        self.signature_from_request(countdown=seconds).apply_async()
        raise Ignore()

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
        """Mark the file's processing completed and return the task's result: ``summary``
        with the old system's ``"success": true`` and ``"file_id"``, which its callers check.

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
        return {**summary, "success": True, "file_id": file_id}

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
        if isinstance(exc, redis.ReadOnlyError):
            logger.error(READ_ONLY_HINT, exc, task_id)
        file_id = (kwargs or {}).get("file_id")
        if file_id and not isinstance(exc, FileBusyError):
            # The server may be the one refusing writes: the retry is what matters then.
            with contextlib.suppress(redis.RedisError):
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
