"""Regenerating a file while it has a queued or running job is a 409 naming that job."""

from __future__ import annotations

import threading
from typing import Any

import redis
from fastapi.testclient import TestClient

from aibox.errors import ConflictError
from aibox.services import file_store, job_registry
from aibox.submit import submit_job
from tests.api.test_files_e2e import upload, wait_for_job, wait_until_done
from tests.support import HeldWorker, wait_for

SHORT = b"# Notes\n\nGrace Hopper worked at Harvard University with Howard Aiken.\n"


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


def test_regenerate_while_a_job_is_queued_or_running_is_409_then_accepted_after(
    api: TestClient, held_worker: HeldWorker
) -> None:
    submitted = upload(api, "held.md", SHORT)
    file_id, first = submitted["file_id"], submitted["job_id"]
    # At once: the upload's job is queued (or has just started).
    response = api.post(f"/api/v1/files/{file_id}/regenerate", json={"type": "vector"})
    _assert_conflict(response, file_id, first)
    held_worker.wait_running()  # started, and held inside its embedding request
    for kind in ("full", "vector", "graph"):
        response = api.post(f"/api/v1/files/{file_id}/regenerate", json={"type": kind})
        assert _assert_conflict(response, file_id, first)["state"] == "started"
    # Nothing was queued by the refused requests, and the running job was left alone.
    assert _job_ids_of(file_id) == {first}
    held_worker.release()
    assert wait_until_done(api, file_id)["status"] == "completed"
    assert wait_for_job(api, first)["state"] == "finished"
    # Once the job has ended, regenerating is accepted again, and then refused while it runs.
    held_worker.hold()
    response = api.post(f"/api/v1/files/{file_id}/regenerate", json={"type": "full"})
    assert response.status_code == 202, response.text
    second = response.json()["data"]["job_id"]
    held_worker.wait_running()
    again = api.post(f"/api/v1/files/{file_id}/regenerate", json={"type": "graph"})
    _assert_conflict(again, file_id, second)
    held_worker.release()
    assert wait_for_job(api, second)["state"] == "finished"
    assert _job_ids_of(file_id) == {first, second}


def test_concurrent_submissions_queue_exactly_one_job(
    redis_client: redis.Redis, held_worker: HeldWorker
) -> None:
    record = file_store().save_upload(
        [SHORT],
        user_id="local",
        filename="race.md",
        file_type="md",
        content_type=None,
        max_bytes=10**6,
    )
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
    assert others == []
    assert len(accepted) == 1, accepted
    assert len(refused) == contenders - 1
    assert {(exc.data or {}).get("job_id") for exc in refused} == set(accepted)
    assert _job_ids_of(record.file_id) == set(accepted)
    held_worker.release()
    job = wait_for(
        lambda: (
            (j := job_registry().get(accepted[0])) and j.state not in {"queued", "started"} and j
        ),
        timeout=60,
    )
    assert job.state == "finished", job.error


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
