"""The task layer on a real broker: retries of transient errors, arguments checked against the
stored record, failures recorded everywhere a user or operator looks."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis
from celery.result import AsyncResult

from aibox import app, processing
from aibox.errors import TransientError
from aibox.pipeline.types import Chunk
from aibox.services import chunk_store, file_store, job_registry, status_store, vector_index
from aibox.store.files import FileRecord
from aibox.submit import submit_job
from aibox.tasks import process_kg_extraction_only_task
from tests.support import IN_PROCESS_QUEUE, free_port, wait_for

DATA = Path(__file__).resolve().parent.parent / "data"


def stored(name: str = "english.md") -> FileRecord:
    content = (DATA / name).read_bytes()
    return file_store().save_upload(
        [content],
        user_id="local",
        filename=name,
        file_type="md",
        content_type=None,
        max_bytes=10**6,
    )


def test_transient_errors_retry_with_backoff_then_succeed(
    celery_worker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = stored()
    real = processing.extract_graph
    failures: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> dict[str, Any]:
        if len(failures) < 2:
            failures.append(1)
            raise TransientError("embedding endpoint timed out")
        return real(*args, **kwargs)

    monkeypatch.setattr(processing, "extract_graph", flaky)
    job_id = str(uuid.uuid4())
    process_kg_extraction_only_task.apply_async(
        kwargs={"file_id": record.file_id, "user_id": "local"},
        task_id=job_id,
        queue=IN_PROCESS_QUEUE,
    )
    result = AsyncResult(job_id, app=app)
    wait_for(lambda: result.state == "SUCCESS", timeout=30)
    job = job_registry().get(job_id)
    assert job is not None
    assert job.state == "finished"
    assert job.retries == 2
    status = status_store().get(record.file_id)
    assert status is not None
    assert status["status"] == "completed"


def test_a_read_only_redis_is_said_clearly_and_retried(
    celery_worker: Any,
    plain_redis: int,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """READONLY (the server is a replica: a failover demoted it, or the URL names one) is
    transient: one clear line for the operator, then the job retries and succeeds. The error
    is a real one, from a real Redis made a replica of a primary that does not answer."""
    replica = redis.Redis(port=plain_redis)
    replica.replicaof("127.0.0.1", str(free_port()))
    record = stored()
    real = processing.extract_graph
    refused: list[str] = []

    def on_a_replica(*args: Any, **kwargs: Any) -> dict[str, Any]:
        if not refused:
            refused.append("once")
            replica.set("aibox-test", "1")  # raises redis.ReadOnlyError
        return real(*args, **kwargs)

    monkeypatch.setattr(processing, "extract_graph", on_a_replica)
    job_id = str(uuid.uuid4())
    with caplog.at_level(logging.ERROR, logger="aibox.tasks.base"):
        process_kg_extraction_only_task.apply_async(
            kwargs={"file_id": record.file_id}, task_id=job_id, queue=IN_PROCESS_QUEUE
        )
        result = AsyncResult(job_id, app=app)
        wait_for(lambda: result.state in {"SUCCESS", "FAILURE"}, timeout=30)
    assert result.state == "SUCCESS", result.info
    job = job_registry().get(job_id)
    assert job is not None
    assert (job.state, job.retries) == ("finished", 1)
    lines = [r.getMessage() for r in caplog.records if r.name == "aibox.tasks.base"]
    assert len(lines) == 1, lines
    assert lines[0].startswith("Redis refused a write (You can't write against a read only")
    assert f"while job {job_id} ran" in lines[0]
    assert "Point AIBOX_REDIS_URL at the primary" in lines[0]
    replica.replicaof("NO", "ONE")
    replica.close()


def test_exhausted_retries_fail_with_the_last_error(
    celery_worker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = stored()

    def down(*_: Any, **__: Any) -> dict[str, Any]:
        raise TransientError("graph endpoint unreachable")

    monkeypatch.setattr(processing, "extract_graph", down)
    monkeypatch.setattr(process_kg_extraction_only_task, "max_retries", 1)
    job_id = str(uuid.uuid4())
    process_kg_extraction_only_task.apply_async(
        kwargs={"file_id": record.file_id}, task_id=job_id, queue=IN_PROCESS_QUEUE
    )
    result = AsyncResult(job_id, app=app)
    wait_for(lambda: result.state == "FAILURE", timeout=30)
    # The result is stored before the failure signal moves the registry record: wait for both.
    job = wait_for(
        lambda: (j := job_registry().get(job_id)) is not None and j.state == "failed" and j,
        timeout=30,
    )
    assert job.retries == 1
    assert job.error == "TransientError: graph endpoint unreachable"
    status = status_store().get(record.file_id)
    assert status is not None
    assert status["status"] == "failed"
    assert "graph endpoint unreachable" in status["message"]


def test_force_rechunk_parses_again_before_the_graph_and_results_say_success(
    celery_worker: Any,
) -> None:
    """The old task contract: ``force_rechunk=True`` re-parses and re-chunks before the work of
    the task (the vectors follow the new chunks), and a result carries ``success`` and
    ``file_id``. Stored chunks replaced by a stand-in show which text the graph came from."""
    record = stored()
    stale = [Chunk(index=0, text="Grace Hopper lived in Arlington.", start=0, end=32)]

    def run(force_rechunk: bool) -> dict[str, Any]:
        chunk_store().replace(record.file_id, stale)
        job_id = str(uuid.uuid4())
        process_kg_extraction_only_task.apply_async(
            kwargs={"file_id": record.file_id, "force_rechunk": force_rechunk},
            task_id=job_id,
            queue=IN_PROCESS_QUEUE,
        )
        result = AsyncResult(job_id, app=app)
        wait_for(lambda: result.state in {"SUCCESS", "FAILURE"}, timeout=60)
        assert result.state == "SUCCESS", result.info
        return dict(result.info)

    kept = run(force_rechunk=False)
    assert kept["success"] is True
    assert kept["file_id"] == record.file_id
    assert kept["chunk_count"] == 1  # the graph came from the stored (stand-in) chunk
    assert [c.text for c in chunk_store().load(record.file_id)] == [stale[0].text]

    again = run(force_rechunk=True)
    assert (again["success"], again["file_id"]) == (True, record.file_id)
    chunks = chunk_store().load(record.file_id)
    assert again["chunk_count"] == len(chunks)
    assert "Steve Jobs and Steve Wozniak founded Apple" in chunks[0].text  # parsed again
    assert again["entities_count"] > kept["entities_count"]
    # One vector per new chunk (the user has this file only: the data db is fresh).
    assert vector_index().count(record.user_id, processing.embedder().id) == len(chunks)


def test_forged_arguments_are_refused_by_the_worker(redis_client: redis.Redis, worker: Any) -> None:
    """The stored record is the truth: another user or another path fails the job."""
    record = stored()
    forged = [
        ({"user_id": "mallory"}, "does not belong to user mallory"),
        ({"file_path": "/etc/passwd"}, "is not the stored path"),
    ]
    for extra, message in forged:
        job_id = str(uuid.uuid4())
        process_kg_extraction_only_task.apply_async(
            kwargs={"file_id": record.file_id, **extra}, task_id=job_id
        )
        job = wait_for(lambda j=job_id: _ended(j), timeout=30)
        assert job.state == "failed"
        assert message in (job.error or "")
    assert file_store().get(record.file_id) is not None


def test_submit_sets_status_and_registry_before_the_worker_runs(
    redis_client: redis.Redis, worker: Any
) -> None:
    record = stored()
    job_id = submit_job(record, "graph")
    registered = job_registry().get(job_id)
    assert registered is not None
    assert registered.task == "process_kg_extraction_only_task"
    assert registered.queue == "kg_extraction"
    assert registered.file_id == record.file_id
    assert registered.user_id == "local"
    job = wait_for(lambda: _ended(job_id), timeout=30)
    assert job.state == "finished"
    current = file_store().get(record.file_id)
    assert current is not None
    assert current.job_id == job_id
    assert current.status == "completed"


def _ended(job_id: str) -> Any:
    job = job_registry().get(job_id)
    return job if job is not None and job.state in {"finished", "failed"} else None
