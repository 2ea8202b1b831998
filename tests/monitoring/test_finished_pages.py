"""Paging through finished jobs: newest first, every job exactly once, ties included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from aibox import keys
from aibox.services import file_store
from aibox.submit import submit_job
from aibox.tasks import process_kg_extraction_only_task
from tests.monitoring.support import (
    SHORT_TEXT,
    V1,
    broker_client,
    page_through,
    paused,
    queued_ids,
    registry_ids,
    session_node,
    upload,
    wait_state,
    wait_until_done,
)

QUEUE = "kg_extraction"


@pytest.fixture
def finished_jobs(make_client: Callable[..., Any]) -> list[str]:
    """25 real kg_extraction jobs that finished, one after another, oldest first."""
    api = make_client("local")
    uploaded = upload(api, "note.md", SHORT_TEXT)
    assert wait_until_done(api, uploaded["file_id"])["status"] == "completed"
    record = file_store().get(uploaded["file_id"])
    assert record is not None
    ids = []
    for _ in range(25):
        job_id = submit_job(record, "graph")
        assert wait_state(job_id, {"finished", "failed"}) == "finished"
        ids.append(job_id)
    return ids


@pytest.mark.slow
def test_finished_jobs_page_newest_first_each_once(
    admin_api: TestClient, finished_jobs: list[str], redis_client: redis.Redis
) -> None:
    assert registry_ids(QUEUE, "finished") == finished_jobs[::-1]
    jobs, pages = page_through(admin_api, QUEUE, "finished", 10)
    assert [j["job_id"] for j in jobs] == finished_jobs[::-1]
    assert pages == 3
    assert all(j["state"] == "finished" and j["func_name"] == j["task"] for j in jobs)
    assert all(j["ended_at"] >= j["started_at"] for j in jobs)
    # Without a status: queued, started (none), then finished, in the same order.
    everything, _ = page_through(admin_api, QUEUE, None, 7)
    assert [j["job_id"] for j in everything] == finished_jobs[::-1]
    stats = admin_api.get(f"{V1}/queues/{QUEUE}/stats").json()["data"]
    assert stats["finished"] == 25
    assert stats["total"] == 25

    # Queued jobs (in the broker) come first, then the registry's, across one page boundary.
    with paused(session_node(), (QUEUE,)), broker_client() as broker:
        for i in range(3):
            process_kg_extraction_only_task.apply_async(kwargs={"file_id": f"f{i}"}, priority=i * 3)
        queued = queued_ids(broker, QUEUE)
        first = admin_api.get(f"{V1}/queues/{QUEUE}/jobs", params={"limit": 10}).json()["data"]
        assert [j["job_id"] for j in first["jobs"]] == queued + finished_jobs[::-1][:7]
        assert [j["state"] for j in first["jobs"]] == ["queued"] * 3 + ["finished"] * 7
        mixed, _ = page_through(admin_api, QUEUE, None, 10)
        assert [j["job_id"] for j in mixed] == queued + finished_jobs[::-1]

    # Jobs that ended in the same instant (equal scores) are neither skipped nor repeated,
    # whatever the page size.
    key = keys.jobs_by_state(QUEUE, "finished")
    redis_client.zadd(key, dict.fromkeys(finished_jobs[5:20], 1800000000.5))
    expected = registry_ids(QUEUE, "finished")
    for limit in (1, 4, 10, 15, 100):
        jobs, _ = page_through(admin_api, QUEUE, "finished", limit)
        assert [j["job_id"] for j in jobs] == expected, limit
