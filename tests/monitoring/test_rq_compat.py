"""The old RQ monitoring API, kept: its four paths answer exactly the old shapes, field by
field, while jobs run; every answer says it is deprecated and where to go instead."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from aibox.api.schemas_rq import iso_utc
from aibox.services import job_registry
from tests.conftest import HeldWorker
from tests.monitoring.support import (
    SHORT_TEXT,
    V1,
    corrupt_pdf,
    upload,
    wait_state,
    wait_until_done,
)
from tests.support import QUEUES

QUEUE = "file_processing"
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
SINCE = "@1796601600"  # 2026-12-07, when aibox took over


def old(admin: TestClient, path: str, **params: Any) -> Any:
    """GET an old path; checks the envelope and the deprecation headers; returns ``data``."""
    response = admin.get(f"{V1}/rq{path}", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["deprecation"] == SINCE
    successor = f"{V1}{path}"
    assert response.headers["link"] == f'<{successor}>; rel="successor-version"'
    body = response.json()
    assert set(body) == {"success", "data"}, body
    assert body["success"] is True
    return body["data"]


def old_job(api_job: dict[str, Any], status: str) -> dict[str, Any]:
    record = job_registry().get(api_job["job_id"])
    assert record is not None
    return {
        "job_id": api_job["job_id"],
        "status": status,
        "file_id": api_job["file_id"],
        "user_id": "local",
        "created_at": iso_utc(record.created_at),
    }


def test_the_old_paths_answer_the_old_shapes_while_jobs_run(
    make_client: Callable[..., Any], held_worker: HeldWorker
) -> None:
    api = make_client("local")
    admin = make_client("root", role="admin")
    running = upload(api, "running.md", SHORT_TEXT)
    held_worker.wait_running()  # one pool process, held: the next upload stays queued
    waiting = upload(api, "waiting.md", SHORT_TEXT + b"\nAnd more.\n")

    stats = old(admin, "/queues/stats")
    assert set(stats) == set(QUEUES)
    for counts in stats.values():
        assert set(counts) == {"queued", "started", "finished", "failed"}
        assert all(isinstance(n, int) for n in counts.values())
    assert stats[QUEUE] == {"queued": 1, "started": 1, "finished": 0, "failed": 0}

    queued = old(admin, f"/queues/{QUEUE}/jobs", limit=10, status="queued")
    assert queued == {"jobs": [old_job(waiting, "queued")], "count": 1}
    assert ISO_Z.match(queued["jobs"][0]["created_at"])
    started = old(admin, f"/queues/{QUEUE}/jobs", status="started")
    assert started == {"jobs": [old_job(running, "started")], "count": 1}
    assert old(admin, f"/queues/{QUEUE}/jobs") == queued  # RQ's default: the queue itself

    one = old(admin, f"/queues/{QUEUE}/jobs/{running['job_id']}")
    assert one == {**old_job(running, "started"), "error": None}

    workers = old(admin, "/workers", timeout=2)
    assert set(workers) == {"workers"}
    mine = next(w for w in workers["workers"] if w["name"] == held_worker.node)
    assert mine == {
        "name": held_worker.node,
        "queues": [QUEUE],
        "state": "busy",
        "current_job": running["job_id"],
    }
    assert all(set(w) == {"name", "queues", "state", "current_job"} for w in workers["workers"])

    held_worker.release()
    for job in (running, waiting):
        wait_until_done(api, job["file_id"])
    broken = upload(api, "broken.pdf", corrupt_pdf("rq"), "application/pdf")
    assert wait_state(broken["job_id"], {"failed", "finished"}) == "failed"
    after = old(admin, "/queues/stats")[QUEUE]
    assert (after["queued"], after["started"], after["finished"], after["failed"]) == (0, 0, 2, 1)
    failed = old(admin, f"/queues/{QUEUE}/jobs/{broken['job_id']}")
    assert failed["status"] == "failed"
    assert failed["error"]
    assert old(admin, f"/queues/{QUEUE}/jobs", status="failed")["jobs"] == [
        old_job(broken, "failed")
    ]


def test_errors_and_access_are_those_of_the_monitoring_api_and_deprecated_too(
    make_client: Callable[..., Any], worker: Any
) -> None:
    api = make_client("local")
    admin = make_client("root", role="admin")
    for client, path, status in (
        (api, "/queues/stats", 403),
        (admin, "/queues/nope/jobs", 404),
        (admin, f"/queues/{QUEUE}/jobs/no-such-job", 404),
        (admin, f"/queues/{QUEUE}/jobs?status=revoked", 422),  # RQ's name is canceled
    ):
        response = client.get(f"{V1}/rq{path}")
        assert response.status_code == status, (path, response.text)
        assert response.headers["deprecation"] == SINCE
        assert response.headers["link"].startswith(f"<{V1}{path.split('?')[0]}>")
    schema = admin.get("/openapi.json").json()
    operations = [
        op
        for path, item in schema["paths"].items()
        if path.startswith(f"{V1}/rq/")
        for op in item.values()
    ]
    assert len(operations) == 4
    assert all(op.get("deprecated") is True for op in operations)


def test_created_at_is_iso_8601_utc_with_z() -> None:
    assert iso_utc(1765540800.75) == "2025-12-12T12:00:00Z"
    assert iso_utc(None) is None
