"""Two jobs on one file never interleave: the second waits for the first's lock, however long."""

from __future__ import annotations

import pytest
import redis
from fastapi.testclient import TestClient

from aibox.connections import get_redis
from aibox.services import job_registry
from aibox.settings import get_settings
from aibox.store.locks import FileLock
from tests.api.test_files_e2e import upload, wait_until_done
from tests.support import wait_for

pytestmark = pytest.mark.slow

#: More busy retries than the task's retry limit for errors (5): waiting is not failing.
BUSY_RETRIES = get_settings().task_max_retries + 1


def test_a_job_waits_for_the_file_lock_beyond_the_retry_limit_then_runs(
    api: TestClient, redis_client: redis.Redis
) -> None:
    file = upload(api, "notes.md", b"# Notes\n\nGrace Hopper worked at Harvard University.\n")
    assert wait_until_done(api, file["file_id"])["status"] == "completed"
    holder = FileLock(get_redis(), file["file_id"], "another-job", ttl_s=60)
    assert holder.acquire()
    try:
        response = api.post(f"/api/v1/files/{file['file_id']}/regenerate", json={"type": "graph"})
        assert response.status_code == 202, response.text
        job_id = response.json()["data"]["job_id"]

        def waited_enough() -> bool:
            job = job_registry().get(job_id)
            assert job is not None
            assert job.state != "failed", job.error
            assert job.retries == 0  # waiting is not a retry
            return job.waits >= BUSY_RETRIES

        wait_for(waited_enough, timeout=BUSY_RETRIES * get_settings().file_busy_retry_s + 60)
        assert job_registry().get(job_id).waiting_for == "another-job"  # type: ignore[union-attr]
        # While it waited, it wrote nothing: the holder's lock is untouched.
        assert holder.holder() == "another-job"
    finally:
        holder.release()
    job = wait_for(
        lambda: (j := job_registry().get(job_id)) and j.state in {"finished", "failed"} and j,
        timeout=60,
    )
    assert job.state == "finished", job.error
    assert wait_until_done(api, file["file_id"])["status"] == "completed"
