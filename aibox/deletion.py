"""Deleting a file: exactly its bytes, chunks, vectors, status keys and graph contributions.

Order matters. The record goes first, so readers answer 404 and no new job can start on the
file; then its queued and running jobs are revoked, and we wait (bounded) for running ones to
stop; then its data is removed. A job that was not stopped in time notices at its end that
its file is gone and removes what it wrote (``FileTask.complete``), so the two converge.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from aibox import keys
from aibox.connections import get_redis
from aibox.services import (
    chunk_store,
    file_store,
    fulltext_index,
    graph_store,
    job_registry,
    vector_index,
)
from aibox.store.files import FileRecord

logger = logging.getLogger(__name__)

_ACTIVE = frozenset({"queued", "started"})


@dataclass
class Deletion:
    """What deleting a file did."""

    file_id: str
    revoked_jobs: list[str] = field(default_factory=list)
    still_running: list[str] = field(default_factory=list)
    chunks: int = 0
    vectors: int = 0


def delete_file(record: FileRecord, *, wait_s: float = 10.0) -> Deletion:
    """Delete a file and everything derived from it; entities other files mention stay."""
    from aibox.celery_app import app

    result = Deletion(record.file_id)
    client = get_redis()
    pipe = client.pipeline(transaction=True)
    pipe.delete(keys.file_record(record.file_id))
    pipe.zrem(keys.user_files(record.user_id), record.file_id)
    pipe.execute()

    registry = job_registry()
    active = [job for job in registry.jobs_of_file(record.file_id) if job.state in _ACTIVE]
    if active:
        ids = [job.job_id for job in active]
        # SIGKILL: with REMAP_SIGTERM=SIGQUIT pool processes ignore SIGTERM, and the job would
        # run on (see aibox/monitoring/jobs.py).
        app.control.revoke(ids, terminate=True, signal="SIGKILL")
        for job in active:
            if job.state == "queued":
                registry.revoked(job.job_id, queue=job.queue)
        result.revoked_jobs = ids
        result.still_running = _wait_until_stopped(
            [j.job_id for j in active if j.state == "started"], wait_s
        )
        if result.still_running:
            logger.warning(
                "file %s deleted while jobs %s still run; they clean up after themselves",
                record.file_id,
                result.still_running,
            )
    remove_file_data(record, result)
    return result


def remove_file_data(record: FileRecord, result: Deletion | None = None) -> None:
    """Remove the file's derived data and bytes (idempotent: safe to run twice)."""
    current = file_store().get(record.file_id)
    high_water = max(record.vector_high_water, current.vector_high_water if current else 0)
    chunks = chunk_store().count(record.file_id)
    graph_store().remove_file(record.user_id, record.file_id)
    fulltext_index().remove(record.user_id, record.file_id)
    embedders = {e for e in (record.embedder, current.embedder if current else None) if e}
    vectors = vector_index()
    for embedder_id in embedders:
        vectors.remove(record.user_id, embedder_id, record.file_id, range(max(high_water, chunks)))
    vectors.forget_file(record.user_id, record.file_id)
    chunk_store().delete(record.file_id)
    get_redis().delete(keys.processing_status(record.file_id), keys.upload_progress(record.file_id))
    job_registry().forget_file(record.file_id)
    file_store().delete_bytes(record)
    if result is not None:
        result.chunks = chunks
        result.vectors = max(high_water, chunks) if embedders else 0


def _wait_until_stopped(job_ids: list[str], wait_s: float) -> list[str]:
    registry = job_registry()
    deadline = time.monotonic() + wait_s
    running = list(job_ids)
    while running and time.monotonic() < deadline:
        time.sleep(0.1)
        running = [
            j for j in running if (r := registry.get(j)) is not None and r.state == "started"
        ]
    return running
