"""Failed jobs: listed with their error, detailed with traceback and arguments, retried."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from aibox.services import file_store, job_registry
from tests.monitoring.support import (
    PDF,
    SHORT_TEXT,
    V1,
    broker_client,
    corrupt_pdf,
    file_status,
    page_through,
    paused,
    queued_ids,
    registry_field,
    registry_state,
    session_node,
    upload,
    wait_state,
    wait_until_done,
)

QUEUE = "file_processing"


def fail_one(api: TestClient, name: str = "broken.pdf") -> dict[str, Any]:
    """Upload a corrupt PDF and wait until its job has failed."""
    uploaded = upload(api, name, corrupt_pdf(name), "application/pdf")
    assert wait_until_done(api, uploaded["file_id"])["status"] == "failed"
    assert wait_state(uploaded["job_id"], {"failed", "finished"}) == "failed"
    return uploaded


@pytest.mark.slow
def test_a_failed_job_is_shown_retried_under_its_id_and_can_then_succeed(
    make_client: Callable[..., Any],
) -> None:
    api = make_client("local")
    admin = make_client("root", role="admin")
    failed = fail_one(api)
    job_id = failed["job_id"]
    listed, _ = page_through(admin, QUEUE, "failed", 10)
    assert [j["job_id"] for j in listed] == [job_id]
    assert listed[0]["error"]
    assert any(w in listed[0]["error"] for w in ("truncated", "damaged")), listed[0]["error"]
    assert "traceback" not in listed[0]

    detail = admin.get(f"{V1}/queues/{QUEUE}/jobs/{job_id}").json()["data"]
    assert detail["state"] == "failed"
    assert detail["error"] == listed[0]["error"]
    assert detail["traceback"].startswith("Traceback (most recent call last)")
    assert detail["traceback"] == registry_field(job_id, "traceback")
    assert detail["kwargs"]["file_id"] == failed["file_id"]
    assert detail["kwargs"]["user_id"] == "local"
    assert detail["retries"] == 0
    assert detail["ended_at"] is not None

    # The operator fixes the document, then retries the job.
    record = file_store().get(failed["file_id"])
    assert record is not None
    file_store().path_of(record).write_bytes(PDF.read_bytes())
    with paused(session_node(), (QUEUE,), purge=False), broker_client() as broker:
        response = admin.post(f"{V1}/jobs/{job_id}/retry")
        assert response.status_code == 200, response.text
        retry = response.json()["data"]
        assert retry["job_id"] == retry["original_job_id"] == job_id
        assert retry["queue"] == QUEUE
        assert retry["file_id"] == failed["file_id"]
        # Queued again under its own id, with the arguments it had; the last error is kept.
        assert queued_ids(broker, QUEUE) == [job_id]
        queued = admin.get(f"{V1}/queues/{QUEUE}/jobs/{job_id}").json()["data"]
        assert (queued["state"], queued["retries"]) == ("queued", 1)
        assert queued["error"] == detail["error"]
        assert queued["kwargs"] == detail["kwargs"]
        stats = admin.get(f"{V1}/queues/{QUEUE}/stats").json()["data"]
        assert (stats["queued"], stats["failed"]) == (1, 0)
        assert file_status(api, failed["file_id"])["status"] == "queued"
    assert wait_state(job_id, {"finished", "failed"}) == "finished"
    status = wait_until_done(api, failed["file_id"])
    assert status["status"] == "completed", status
    assert status["chunking"]["chunk_count"] >= 1
    job = job_registry().get(job_id)
    assert job is not None
    assert job.retries == 1
    assert job.state == "finished"
    # Finished: neither the old error nor its traceback is shown any more.
    detail = admin.get(f"{V1}/queues/{QUEUE}/jobs/{job_id}").json()["data"]
    assert (detail["error"], detail["traceback"]) == (None, None)
    assert api.get(f"{V1}/jobs/{job_id}").json()["data"]["celery_state"] == "SUCCESS"
    assert page_through(admin, QUEUE, "failed", 10)[0] == []
    assert [j["job_id"] for j in page_through(admin, QUEUE, "finished", 10)[0]] == [job_id]

    # A finished job is not retried, and stays as it was.
    response = admin.post(f"{V1}/jobs/{job_id}/retry")
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "conflict"
    assert job_registry().get(job_id) == job


@pytest.mark.slow
def test_bulk_retry_queues_every_failed_job_of_the_queue_again(
    make_client: Callable[..., Any],
) -> None:
    api = make_client("local")
    admin = make_client("root", role="admin")
    failed = [fail_one(api, f"broken-{i}.pdf") for i in range(3)]
    ok = upload(api, "fine.md", SHORT_TEXT)
    assert wait_until_done(api, ok["file_id"])["status"] == "completed"
    ids = {f["job_id"] for f in failed}
    assert admin.get(f"{V1}/queues/{QUEUE}/stats").json()["data"]["failed"] == 3
    # Another queue's failures are its own.
    empty = admin.post(f"{V1}/queues/vectorization/failed/retry")
    assert empty.status_code == 200
    assert empty.json()["data"] == {
        "queue": "vectorization",
        "retried": [],
        "count": 0,
        "skipped": {},
    }

    response = admin.post(f"{V1}/queues/{QUEUE}/failed/retry")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data["retried"]) == ids
    assert data["count"] == 3
    assert data["skipped"] == {}
    # Still corrupt: each fails again, under its own id, counted as retried once.
    for job_id in ids:
        assert wait_state(job_id, {"finished", "failed"}) == "failed"
        job = job_registry().get(job_id)
        assert job is not None
        assert job.retries == 1
    assert {j["job_id"] for j in page_through(admin, QUEUE, "failed", 2)[0]} == ids
    assert job_registry().get(ok["job_id"]).state == "finished"  # type: ignore[union-attr]
    # A job whose file was deleted meanwhile is skipped, with the reason.
    gone = failed[0]
    assert api.delete(f"{V1}/files/{gone['file_id']}").status_code == 200
    again = admin.post(f"{V1}/queues/{QUEUE}/failed/retry").json()["data"]
    assert again["count"] == 2
    assert set(again["retried"]) == ids - {gone["job_id"]}
    assert list(again["skipped"]) == [gone["job_id"]]
    assert "no longer exists" in again["skipped"][gone["job_id"]]
    assert registry_state(gone["job_id"]) == "failed"
    for job_id in ids - {gone["job_id"]}:
        assert wait_state(job_id, {"finished", "failed"}) == "failed"
        assert job_registry().get(job_id).retries == 2  # type: ignore[union-attr]
