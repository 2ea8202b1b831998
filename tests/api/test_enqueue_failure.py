"""A job the broker does not take fails visibly, and does not hold its file.

The publishing process runs with its broker URL pointing at a port nobody listens on, while
its data (file records, registry, status) is the session's real server: the broker refuses
the connection for real and nothing is mocked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from aibox.services import job_registry
from tests.api.test_files_e2e import upload, wait_for_job, wait_until_done
from tests.support import ROOT, free_port

_PUBLISH_WITHOUT_BROKER = """
import json, sys
from aibox.services import file_store
from aibox.errors import EnqueueError
from aibox.submit import submit_job

try:
    job_id = submit_job(file_store().get(sys.argv[1]), "vector")
except EnqueueError as exc:
    print(json.dumps({"error": str(exc)}))
else:
    print(json.dumps({"job_id": job_id}))
"""


@pytest.mark.timeout(180)
def test_a_job_the_broker_refuses_is_failed_and_the_file_can_be_queued_again(
    api: TestClient, worker: subprocess.Popen[bytes]
) -> None:
    stored = upload(api, "notes.txt", b"Alice met Bob in Paris. " * 50)
    file_id = stored["file_id"]
    wait_until_done(api, file_id)
    env = {**os.environ, "AIBOX_BROKER_URL": f"redis://127.0.0.1:{free_port()}/1"}
    child = subprocess.run(
        [sys.executable, "-c", _PUBLISH_WITHOUT_BROKER, file_id],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    outcome = json.loads(child.stdout.strip().splitlines()[-1])
    assert outcome.get("error", "").startswith("could not queue the job"), outcome

    failed = [j for j in job_registry().jobs_of_file(file_id) if j.job_id != stored["job_id"]]
    assert [j.state for j in failed] == ["failed"]
    assert (failed[0].error or "").startswith("could not queue the job")
    status = api.get(f"/api/v1/files/{file_id}/status").json()["data"]
    assert status["status"] == "failed"
    assert status["job_id"] == failed[0].job_id
    assert status["error"].startswith("could not queue the job")
    record = api.get(f"/api/v1/files/{file_id}").json()["data"]
    assert record["status"] == "failed"

    # The refused job does not hold the file: the next request is queued and runs.
    again = api.post(f"/api/v1/files/{file_id}/regenerate", json={"type": "vector"})
    assert again.status_code == 202, again.text
    assert wait_for_job(api, again.json()["data"]["job_id"])["state"] == "finished"
