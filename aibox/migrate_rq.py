"""Move the jobs waiting in the old RQ system's registries into aibox (``aibox migrate-rq``).

The old system queued ``process_file_chunking_and_vectorization_task``,
``process_vectorization_only_task`` and ``process_kg_extraction_only_task`` on the same three
queues. For every queued, started, deferred or failed job of those functions, the file is
registered in aibox from the job's ``file_path`` (bytes copied into aibox's storage; the old
``file_id`` and ``user_id`` kept) and the matching aibox task is submitted with the same
keyword arguments. A job moved once is remembered (``aibox:migrated:rq``) and never moved
again; ``remove`` deletes moved jobs from the old registries.

RQ stores job data pickled: reading it runs code chosen by whoever wrote that Redis. Run this
only against your own old Redis. The ``rq`` library reads RQ's format; it is an optional extra
(``pip install 'aibox[rq]'``).
"""

from __future__ import annotations

import logging
import mimetypes
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import redis

from aibox import keys
from aibox.connections import get_redis
from aibox.errors import AiboxError, ConfigurationError, ConflictError
from aibox.pipeline.parsers import file_type_for
from aibox.queues import EXTRACT_GRAPH_TASK, PROCESS_FILE_TASK, QUEUES, VECTORIZE_TASK
from aibox.services import file_store
from aibox.settings import get_settings
from aibox.store.files import FileRecord
from aibox.submit import JobKind, submit_job

logger = logging.getLogger(__name__)

#: The old task functions (by name, whatever module held them) and the aibox job each becomes.
OLD_TASKS: dict[str, JobKind] = {
    PROCESS_FILE_TASK: "full",
    VECTORIZE_TASK: "vector",
    EXTRACT_GRAPH_TASK: "graph",
}
#: The old functions' positional parameters, in order.
_PARAMETERS = ("file_id", "file_path", "file_type", "user_id", "force_rechunk")
#: RQ registries a job may wait in, in the order they are read.
OLD_STATES = ("queued", "started", "deferred", "failed")
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")

Outcome = Literal[
    "moved",  # submitted to aibox now (or, in a dry run, would be)
    "already moved",  # by an earlier run
    "missing file",  # its file_path cannot be read: reported, nothing submitted
    "refused",  # its file cannot be taken (type, size, another user's id): reported
    "file busy",  # the file has an active aibox job: run again once it ends
    "not an aibox task",  # another function: left alone
    "bad arguments",  # no usable file_id / user_id
    "gone",  # its job data expired between listing and reading
]


@dataclass
class OldJob:
    """One RQ job found in the old registries, and what became of it."""

    rq_job_id: str
    queue: str
    state: str
    function: str = ""
    kwargs: dict[str, Any] = field(default_factory=dict)
    outcome: Outcome = "moved"
    detail: str = ""
    aibox_job_id: str | None = None


@dataclass
class Report:
    """Every job found, and the counts per queue and per outcome."""

    jobs: list[OldJob]
    dry_run: bool
    removed: int = 0

    def counts(self) -> dict[str, Counter[str]]:
        """Outcome counts per queue."""
        per_queue: dict[str, Counter[str]] = {queue: Counter() for queue in QUEUES}
        for job in self.jobs:
            per_queue[job.queue][job.outcome] += 1
        return per_queue


def migrate(old: redis.Redis, *, dry_run: bool = False, remove: bool = False) -> Report:
    """Move every job of the old functions from the RQ registries in ``old`` into aibox."""
    jobs = read_old_jobs(old)
    moved = get_redis().hgetall(keys.migrated_rq_jobs())
    for job in jobs:
        if job.outcome != "moved":
            continue
        if job.rq_job_id in moved:
            job.outcome, job.aibox_job_id = "already moved", str(moved[job.rq_job_id])
        elif dry_run:
            _check(job)
        else:
            _move(job)
    report = Report(jobs, dry_run)
    if remove and not dry_run:
        report.removed = _remove([j for j in jobs if j.outcome in {"moved", "already moved"}], old)
    return report


def read_old_jobs(old: redis.Redis) -> list[OldJob]:
    """Every job in the old queues and their started, deferred and failed registries."""
    rq = _rq()
    found: list[OldJob] = []
    for queue_name in QUEUES:
        queue = rq.Queue(queue_name, connection=old)
        listed = {
            "queued": queue.get_job_ids(),
            "started": rq.registry.StartedJobRegistry(queue=queue).get_job_ids(),
            "deferred": rq.registry.DeferredJobRegistry(queue=queue).get_job_ids(),
            "failed": rq.registry.FailedJobRegistry(queue=queue).get_job_ids(),
        }
        for state in OLD_STATES:
            ids = listed[state]
            for job_id, job in zip(ids, rq.job.Job.fetch_many(ids, connection=old), strict=True):
                found.append(_read(job_id, queue_name, state, job))
    return found


def _read(job_id: str, queue: str, state: str, job: Any) -> OldJob:
    entry = OldJob(rq_job_id=job_id, queue=queue, state=state)
    if job is None:
        entry.outcome, entry.detail = "gone", "its job data has expired"
        return entry
    entry.function = str(job.func_name or "")
    name = entry.function.rsplit(".", 1)[-1]
    if name not in OLD_TASKS:
        entry.outcome, entry.detail = "not an aibox task", entry.function
        return entry
    kwargs = dict(zip(_PARAMETERS, job.args or (), strict=False)) | dict(job.kwargs or {})
    entry.kwargs = kwargs
    for key in ("file_id", "user_id"):
        if not _SAFE_ID.match(str(kwargs.get(key) or "")):
            entry.outcome = "bad arguments"
            entry.detail = f"{key} {kwargs.get(key)!r} is missing or not a plain id"
    return entry


def _move(job: OldJob) -> None:
    """Register the job's file and submit its aibox task."""
    kind = OLD_TASKS[job.function.rsplit(".", 1)[-1]]
    try:
        record = _register_file(job.kwargs)
    except OSError as exc:
        job.outcome, job.detail = "missing file", f"{exc.strerror or exc}: {exc.filename}"
        return
    except AiboxError as exc:
        job.outcome, job.detail = "refused", str(exc)
        return
    force = bool(job.kwargs.get("force_rechunk", kind == "full"))
    try:
        job.aibox_job_id = submit_job(record, kind, force_rechunk=force)
    except ConflictError as exc:
        job.outcome, job.detail = "file busy", str(exc)
        return
    get_redis().hset(keys.migrated_rq_jobs(), job.rq_job_id, job.aibox_job_id)
    logger.info("moved RQ job %s (%s) as aibox job %s", job.rq_job_id, kind, job.aibox_job_id)


def _check(job: OldJob) -> None:
    """In a dry run: would the file be found?"""
    file_id = str(job.kwargs["file_id"])
    if (
        file_store().get(file_id) is None
        and not Path(str(job.kwargs.get("file_path") or "")).is_file()
    ):
        job.outcome = "missing file"
        job.detail = f"no file at {job.kwargs.get('file_path')!r} and no aibox file {file_id}"


def _register_file(kwargs: dict[str, Any]) -> FileRecord:
    """The aibox record of the job's file: the one already moved, or a copy of its bytes."""
    file_id, user_id = str(kwargs["file_id"]), str(kwargs["user_id"])
    files = file_store()
    existing = files.get(file_id)
    if existing is not None:
        if existing.user_id != user_id:
            raise ConflictError(f"file {file_id} belongs to another user in aibox")
        return existing
    raw_path = kwargs.get("file_path")
    if not raw_path:
        raise ConfigurationError(f"the job names no file_path for file {file_id}")
    path = Path(str(raw_path))
    content_type = mimetypes.guess_type(path.name)[0]
    old_type = str(kwargs.get("file_type") or "").lstrip(".")
    named = path.name if path.suffix or not old_type else f"{path.name}.{old_type}"
    file_type = file_type_for(named, content_type)
    with path.open("rb") as source:  # a missing or unreadable file: OSError, reported
        return files.save_upload(
            iter(lambda: source.read(1 << 20), b""),
            user_id=user_id,
            filename=path.name,
            file_type=file_type,
            content_type=content_type,
            max_bytes=get_settings().max_upload_bytes,
            file_id=file_id,
        )


def _remove(jobs: list[OldJob], old: redis.Redis) -> int:
    """Delete ``jobs`` from the old queues and registries; returns how many were there."""
    rq = _rq()
    registries = (
        rq.registry.StartedJobRegistry,
        rq.registry.DeferredJobRegistry,
        rq.registry.FailedJobRegistry,
    )
    for queue_name in {job.queue for job in jobs}:
        moved = {job.rq_job_id for job in jobs if job.queue == queue_name}
        queue = rq.Queue(queue_name, connection=old)
        for registry in registries:
            # RQ 2 lists a started job as "job id:execution id", RQ 1 and the rest by job id.
            key = registry(queue=queue).key
            members = (
                m.decode() if isinstance(m, bytes) else str(m) for m in old.zrange(key, 0, -1)
            )
            entries = [name for name in members if name.split(":", 1)[0] in moved]
            if entries:
                old.zrem(key, *entries)
    found = rq.job.Job.fetch_many([job.rq_job_id for job in jobs], connection=old)
    for job in found:
        if job is not None:
            job.delete(remove_from_queue=True)
    return sum(job is not None for job in found)


def _rq() -> Any:
    """The ``rq`` package, or a clear error saying how to install it."""
    try:
        import rq
        import rq.job
        import rq.registry
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ConfigurationError(
            "aibox migrate-rq reads RQ's job format with the rq package: pip install 'aibox[rq]'"
        ) from exc
    return rq
