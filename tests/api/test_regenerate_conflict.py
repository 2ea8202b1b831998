"""Regenerating a file while it has a queued or running job is a 409 naming that job."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from aibox import deletion
from aibox.errors import ConflictError
from aibox.services import file_store, job_registry
from aibox.store.files import FileRecord
from aibox.submit import submit_job
from tests.api.test_files_e2e import upload, wait_for_job, wait_until_done
from tests.support import wait_for


def _long_text(sentences: int = 40_000) -> bytes:
    """Text that keeps a worker busy for a good while (as in test_delete_e2e)."""
    words = "Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia".split()
    rng = random.Random(11)
    return " ".join(
        f"{rng.choice(words)} met {rng.choice(words)} in Paris to discuss the report number {i}."
        for i in range(sentences)
    ).encode()


def _job_ids_of(file_id: str) -> set[str]:
    return {job.job_id for job in job_registry().jobs_of_file(file_id)}


def _assert_conflict(response: Any, file_id: str, job_id: str) -> dict[str, Any]:
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["success"] is False
    assert body["code"] == "conflict"
    assert job_id in body["message"]
    data = dict(body["data"])
    assert data["file_id"] == file_id
    assert data["job_id"] == job_id
    assert data["state"] in {"queued", "started"}
    return data


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_regenerate_while_a_job_is_queued_or_running_is_409_then_accepted_after(
    api: TestClient, redis_client: redis.Redis
) -> None:
    big = upload(api, "long.txt", _long_text())
    file_id, first = big["file_id"], big["job_id"]
    # At once: the upload's job is queued (or has just started).
    response = api.post(f"/api/v1/files/{file_id}/regenerate", json={"type": "vector"})
    _assert_conflict(response, file_id, first)

    def running() -> bool:
        job = job_registry().get(first)
        return job is not None and job.state == "started"

    wait_for(running, timeout=60, interval=0.05)
    for kind in ("full", "vector", "graph"):
        response = api.post(f"/api/v1/files/{file_id}/regenerate", json={"type": kind})
        assert _assert_conflict(response, file_id, first)["state"] == "started"
    # Nothing was queued by the refused requests, and the running job was left alone.
    assert _job_ids_of(file_id) == {first}
    assert wait_until_done(api, file_id, timeout=300)["status"] == "completed"
    assert wait_for_job(api, first)["state"] == "finished"
    # Once the job has ended, regenerating is accepted again, and then refused while it runs.
    response = api.post(f"/api/v1/files/{file_id}/regenerate", json={"type": "graph"})
    assert response.status_code == 202, response.text
    second = response.json()["data"]["job_id"]
    again = api.post(f"/api/v1/files/{file_id}/regenerate", json={"type": "graph"})
    if again.status_code != 202:  # the graph job may already have ended; if not, it conflicts
        _assert_conflict(again, file_id, second)
    assert wait_for_job(api, second, timeout=300)["state"] == "finished"
    assert _job_ids_of(file_id) == {first, second} | (
        {again.json()["data"]["job_id"]} if again.status_code == 202 else set()
    )


def _stored_without_job() -> FileRecord:
    return file_store().save_upload(
        [_long_text()],
        user_id="local",
        filename="race.txt",
        file_type="txt",
        content_type=None,
        max_bytes=10**8,
    )


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_concurrent_submissions_queue_exactly_one_job(
    redis_client: redis.Redis, worker: Any
) -> None:
    record = _stored_without_job()
    contenders = 8
    barrier = threading.Barrier(contenders)
    accepted: list[str] = []
    refused: list[ConflictError] = []
    others: list[BaseException] = []

    def submit() -> None:
        barrier.wait()
        try:
            accepted.append(submit_job(record, "full"))
        except ConflictError as exc:
            refused.append(exc)
        except BaseException as exc:  # reported by the assertion below
            others.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert others == []
        assert len(accepted) == 1, accepted
        assert len(refused) == contenders - 1
        assert {(exc.data or {}).get("job_id") for exc in refused} == set(accepted)
        assert _job_ids_of(record.file_id) == set(accepted)
    finally:
        # Stop the long job so it does not hold the session worker.
        deletion.delete_file(record)
    job = wait_for(
        lambda: (
            (j := job_registry().get(accepted[0])) and j.state not in {"queued", "started"} and j
        ),
        timeout=60,
    )
    assert job.state in {"revoked", "failed"}


def test_a_queued_job_blocks_regeneration_until_it_is_revoked(
    api: TestClient, redis_client: redis.Redis
) -> None:
    """A job the registry shows queued (its message not yet taken, or lost) holds the file."""
    record = file_store().save_upload(
        [b"# Queued\n\nKatherine Johnson computed orbits at NASA.\n"],
        user_id="local",
        filename="queued.md",
        file_type="md",
        content_type=None,
        max_bytes=10**6,
    )
    waiting = "job-waiting-for-a-worker"
    job_registry().published(
        waiting,
        task="process_vectorization_only_task",
        queue="vectorization",
        file_id=record.file_id,
        user_id="local",
    )
    path = f"/api/v1/files/{record.file_id}/regenerate"
    data = _assert_conflict(api.post(path, json={"type": "full"}), record.file_id, waiting)
    assert data["state"] == "queued"
    assert data["queue"] == "vectorization"
    assert _job_ids_of(record.file_id) == {waiting}
    assert job_registry().revoke_queued(waiting)
    response = api.post(path, json={"type": "full"})
    assert response.status_code == 202, response.text
    job = wait_for_job(api, response.json()["data"]["job_id"])
    assert job["state"] == "finished", job
