"""Every monitoring endpoint: 401 without a token, 403 for a user, 2xx for an admin, 404s."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from aibox.api.main import app
from tests.monitoring.support import SHORT_TEXT, V1, upload, wait_until_done
from tests.support import QUEUES


def endpoints(job_id: str) -> list[tuple[str, str]]:
    """(method, path) of every monitoring endpoint, on a real job where one is named."""
    queue = "file_processing"
    return [
        ("GET", "/queues"),
        ("GET", "/queues/stats"),
        ("GET", f"/queues/{queue}/stats"),
        ("GET", f"/queues/{queue}/jobs"),
        ("GET", f"/queues/{queue}/jobs/{job_id}"),
        ("GET", "/workers"),
        ("POST", f"/jobs/{job_id}/retry"),
        ("POST", f"/queues/{queue}/failed/retry"),
        ("POST", f"/jobs/{job_id}/revoke"),
    ]


def test_only_admins_reach_monitoring(make_client: Callable[..., Any]) -> None:
    admin = make_client("root", role="admin")
    bob = make_client("bob")
    done = upload(bob, "note.md", SHORT_TEXT)
    assert wait_until_done(bob, done["file_id"])["status"] == "completed"
    job_id = done["job_id"]
    with TestClient(app) as anonymous:
        for method, path in endpoints(job_id):
            response = anonymous.request(method, V1 + path)
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["success"] is False
    for method, path in endpoints(job_id):
        response = bob.request(method, V1 + path)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "forbidden"
    # The user's own job is untouched by the refused retry and revoke.
    assert bob.get(f"{V1}/jobs/{job_id}").json()["data"]["state"] == "finished"
    expected = {"POST /jobs/{id}/retry": 409, "POST /jobs/{id}/revoke": 409}
    for method, path in endpoints(job_id):
        response = admin.request(
            method, V1 + path, params={"timeout": 5} if "workers" in path else None
        )
        label = f"{method} {path.replace(job_id, '{id}')}"
        assert response.status_code == expected.get(label, 200), (label, response.text)
        assert response.json()["success"] is (label not in expected)
    detail = admin.get(f"{V1}/queues/file_processing/jobs/{job_id}").json()["data"]
    assert detail["job_id"] == job_id
    assert detail["state"] == detail["status"] == "finished"
    assert detail["kwargs"]["file_id"] == done["file_id"]


def test_unknown_queue_and_job_are_404(admin_api: TestClient) -> None:
    for path in (
        "/queues/nope/stats",
        "/queues/nope/jobs",
        "/queues/nope/jobs/123",
        "/queues/file_processing/jobs/no-such-job",
    ):
        response = admin_api.get(V1 + path)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["code"] == "not_found"
    for path in (
        "/queues/nope/failed/retry",
        "/jobs/no-such-job/retry",
        "/jobs/no-such-job/revoke",
    ):
        response = admin_api.post(V1 + path)
        assert response.status_code == 404, (path, response.text)
    stats = admin_api.get(f"{V1}/queues/stats").json()["data"]["queues"]
    assert set(stats) == set(QUEUES)
    listed = admin_api.get(f"{V1}/queues").json()["data"]
    assert listed["queues"] == list(QUEUES)
    assert listed["count"] == 3


def test_a_job_of_another_queue_is_404_in_this_one(make_client: Callable[..., Any]) -> None:
    admin = make_client("root", role="admin")
    done = upload(admin, "note.md", SHORT_TEXT)
    wait_until_done(admin, done["file_id"])
    assert admin.get(f"{V1}/queues/file_processing/jobs/{done['job_id']}").status_code == 200
    assert admin.get(f"{V1}/queues/vectorization/jobs/{done['job_id']}").status_code == 404
