"""GET /workers: the session worker, its queues, as ``celery inspect`` sees it."""

from __future__ import annotations

import subprocess

from fastapi.testclient import TestClient

from aibox import app
from tests.monitoring.support import V1, active_jobs, session_node
from tests.support import QUEUES, wait_for


def test_workers_lists_the_session_worker_as_inspect_does(
    admin_api: TestClient, worker: subprocess.Popen[bytes]
) -> None:
    node = session_node()
    # A job an earlier test left running would make the worker busy: wait until it is idle.
    wait_for(lambda: not active_jobs(node), timeout=120, interval=0.5)
    response = admin_api.get(f"{V1}/workers", params={"timeout": 2})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["count"] == len(data["workers"])
    by_name = {w["name"]: w for w in data["workers"]}
    assert node in by_name, sorted(by_name)
    mine = by_name[node]
    assert sorted(mine["queues"]) == sorted(QUEUES)
    assert mine["pid"] == worker.pid
    assert mine["concurrency"] == 2
    assert mine["state"] == "idle"
    assert mine["current_jobs"] == []
    assert mine["current_job_id"] is None
    assert mine["birth_date"]

    inspect = app.control.inspect(timeout=2)
    queues = inspect.active_queues() or {}
    assert set(by_name) == set(queues)
    for name, worker_queues in queues.items():
        assert sorted(by_name[name]["queues"]) == sorted(q["name"] for q in worker_queues)
    stats = (inspect.stats() or {})[node]
    assert mine["pid"] == stats["pid"]
    assert mine["processed"] == sum(stats.get("total", {}).values())


def test_workers_timeout_is_bounded(admin_api: TestClient) -> None:
    for bad in ("0", "-1", "11", "soon"):
        response = admin_api.get(f"{V1}/workers", params={"timeout": bad})
        assert response.status_code == 422, (bad, response.text)
