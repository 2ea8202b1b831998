"""Revoking jobs: a queued one never runs, a running one stops, an ended one is a conflict."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

from aibox import app
from aibox.services import file_store, job_registry
from tests.conftest import HeldWorker
from tests.monitoring.support import (
    SHORT_TEXT,
    V1,
    active_jobs,
    broker_client,
    file_status,
    frozen,
    list_lengths,
    paused,
    pid_running,
    process_gone,
    queued_ids,
    registry_state,
    session_node,
    unacked_ids,
    upload,
    wait_state,
    wait_until_done,
)
from tests.support import wait_for

QUEUE = "file_processing"


def test_a_revoked_queued_job_never_runs_even_when_consumers_return(
    make_client: Callable[..., Any], worker: subprocess.Popen[bytes]
) -> None:
    api = make_client("local")
    admin = make_client("root", role="admin")
    with paused(session_node(), (QUEUE,), purge=False), broker_client() as broker:
        doomed = upload(api, "doomed.md", SHORT_TEXT)
        kept = upload(api, "kept.md", SHORT_TEXT + b"\nAnother line.\n")
        assert queued_ids(broker, QUEUE) == [doomed["job_id"], kept["job_id"]]
        response = admin.post(f"{V1}/jobs/{doomed['job_id']}/revoke")
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data == {
            "job_id": doomed["job_id"],
            "queue": QUEUE,
            "previous_state": "queued",
            "state": "revoked",
            "removed_from_broker": True,
        }
        assert queued_ids(broker, QUEUE) == [kept["job_id"]]
        assert registry_state(doomed["job_id"]) == "revoked"
        stats = admin.get(f"{V1}/queues/{QUEUE}/stats").json()["data"]
        assert (stats["queued"], stats["revoked"]) == (1, 1)
        again = admin.post(f"{V1}/jobs/{doomed['job_id']}/revoke")
        assert again.status_code == 409, again.text
    # The consumer is back: the job queued after the revoked one runs, the revoked one never.
    assert wait_until_done(api, kept["file_id"])["status"] == "completed"
    assert wait_state(kept["job_id"], {"finished", "failed"}) == "finished"
    job = job_registry().get(doomed["job_id"])
    assert job is not None
    assert job.state == "revoked"
    assert job.started_at is None
    assert job.worker is None
    status = file_status(api, doomed["file_id"])
    assert status["status"] == "failed"
    assert "revoked" in status["message"]
    assert file_store().get(doomed["file_id"]).status == "failed"  # type: ignore[union-attr]
    with broker_client() as broker:
        assert sum(list_lengths(broker, QUEUE)) == 0
    listed = admin.get(f"{V1}/queues/{QUEUE}/jobs", params={"status": "revoked"}).json()
    assert [j["job_id"] for j in listed["data"]["jobs"]] == [doomed["job_id"]]
    assert worker.poll() is None


def test_revoking_a_running_job_stops_it_and_the_worker_keeps_serving(
    make_client: Callable[..., Any], held_worker: HeldWorker
) -> None:
    api = make_client("local")
    admin = make_client("root", role="admin")
    node = held_worker.node
    running = upload(api, "held.md", SHORT_TEXT)
    job_id = running["job_id"]
    held_worker.wait_running()  # the job is inside its embedding request, held there
    pid = pid_running(node, job_id)
    assert registry_state(job_id) == "started"
    workers = admin.get(f"{V1}/workers", params={"timeout": 5}).json()["data"]["workers"]
    mine = next(w for w in workers if w["name"] == node)
    assert mine["state"] == "busy"
    assert job_id in {j["job_id"] for j in mine["current_jobs"]}
    assert {j["file_id"] for j in mine["current_jobs"]} == {running["file_id"]}

    started = admin.get(f"{V1}/queues/{QUEUE}/jobs", params={"status": "started"}).json()
    assert [j["job_id"] for j in started["data"]["jobs"]] == [job_id]
    assert started["data"]["jobs"][0]["worker"] == node

    response = admin.post(f"{V1}/jobs/{job_id}/revoke")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["previous_state"] == "started"
    assert data["removed_from_broker"] is False
    assert wait_state(job_id, {"revoked", "finished", "failed"}) == "revoked"
    # The process running it is gone (a revoke that only marks the job would let it run on
    # to its end), and the worker no longer lists the job.
    wait_for(lambda: process_gone(pid), timeout=60)
    assert job_id not in {r["id"] for r in active_jobs(node)}
    # Its message is acknowledged, not held or returned to the queue: no worker, not even one
    # started later that never saw the revoke, can receive it again.
    with broker_client() as broker:
        wait_for(lambda: job_id not in unacked_ids(broker), timeout=60, interval=0.5)
        assert job_id not in queued_ids(broker, QUEUE)
    assert file_status(api, running["file_id"])["status"] == "failed"
    assert app.AsyncResult(job_id).state == "REVOKED"
    # The worker survives and serves the next job; the revoked one does not come back.
    held_worker.release()
    after = upload(api, "next.md", b"# Next\n\nGrace Hopper worked at Harvard University.\n")
    assert wait_until_done(api, after["file_id"])["status"] == "completed"
    assert job_registry().get(after["job_id"]).worker == node  # type: ignore[union-attr]
    assert registry_state(job_id) == "revoked"
    assert app.AsyncResult(job_id).state == "REVOKED"
    assert file_status(api, running["file_id"])["status"] == "failed"
    assert held_worker.process.poll() is None
    ended = admin.post(f"{V1}/jobs/{after['job_id']}/revoke")
    assert ended.status_code == 409, ended.text
    assert registry_state(after["job_id"]) == "finished"


def test_revoke_stops_even_a_process_deaf_to_signals_and_the_file_can_run_again(
    make_client: Callable[..., Any], held_worker: HeldWorker
) -> None:
    """A process stuck in C code handles no signal; only SIGKILL stops it (here: SIGSTOP)."""
    api = make_client("local")
    admin = make_client("root", role="admin")
    running = upload(api, "held.md", SHORT_TEXT)
    job_id = running["job_id"]
    held_worker.wait_running()
    pid = pid_running(held_worker.node, job_id)
    with frozen(pid):
        response = admin.post(f"{V1}/jobs/{job_id}/revoke")
        assert response.status_code == 200, response.text
        assert response.json()["data"]["state"] == "revoked"
        wait_for(lambda: process_gone(pid), timeout=60)
    with broker_client() as broker:
        wait_for(lambda: job_id not in unacked_ids(broker), timeout=60, interval=0.5)
        assert job_id not in queued_ids(broker, QUEUE)
    assert registry_state(job_id) == "revoked"
    status = file_status(api, running["file_id"])
    assert status["status"] == "failed"
    assert "revoked" in status["message"]
    # The killed process's file lock lapses; a retry (as a new job) processes the file.
    held_worker.release()
    retry = admin.post(f"{V1}/jobs/{job_id}/retry")
    assert retry.status_code == 200, retry.text
    final = wait_until_done(api, running["file_id"], timeout=180)
    assert final["status"] == "completed", final
    assert wait_state(retry.json()["data"]["job_id"], {"finished", "failed"}) == "finished"
    assert registry_state(job_id) == "revoked"
    assert held_worker.process.poll() is None


def test_a_revoked_job_is_retried_once_as_a_new_job(
    make_client: Callable[..., Any],
) -> None:
    api = make_client("local")
    admin = make_client("root", role="admin")
    with paused(session_node(), (QUEUE,), purge=False):
        doomed = upload(api, "doomed.md", SHORT_TEXT)
        assert admin.post(f"{V1}/jobs/{doomed['job_id']}/revoke").status_code == 200
    response = admin.post(f"{V1}/jobs/{doomed['job_id']}/retry")
    assert response.status_code == 200, response.text
    retry = response.json()["data"]
    assert retry["original_job_id"] == doomed["job_id"]
    assert retry["job_id"] != doomed["job_id"]
    assert wait_until_done(api, doomed["file_id"])["status"] == "completed"
    assert wait_state(retry["job_id"], {"finished", "failed"}) == "finished"
    old, new = job_registry().get(doomed["job_id"]), job_registry().get(retry["job_id"])
    assert old is not None
    assert new is not None
    assert (old.state, old.retried_as) == ("revoked", retry["job_id"])
    assert (new.retry_of, new.file_id) == (doomed["job_id"], doomed["file_id"])
    second = admin.post(f"{V1}/jobs/{doomed['job_id']}/retry")
    assert second.status_code == 409, second.text
