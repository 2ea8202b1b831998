"""deploy/supervisor/aibox.conf under a real supervisord: start, restart on SIGKILL, no lost job.

One supervisord for the module (tests/deploy/stack.py): the repository's configuration and
environment example, a private Redis port, private API and Flower ports and a temporary
state directory. The tests run in order; each leaves every program RUNNING.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.deploy.stack import (
    PROGRAMS,
    Stack,
    api_healthy,
    flower_answers,
    start_stack,
    stop_stack,
    wait_until_all_running,
)
from tests.fakes.embeddings_server import FakeEmbeddingsServer
from tests.support import pings, wait_for

pytestmark = pytest.mark.slow

USER, PASSWORD = "deploy-tester", "a-long-enough-password-42"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[FakeEmbeddingsServer]:
    """The stack's embedder endpoint: the fake OpenAI-compatible one (the one stand-in: no
    such remote service exists here), which can hold a job mid-run for as long as a test
    needs — so a job is surely running when the worker is killed, whatever its size."""
    with FakeEmbeddingsServer(dim=16) as server:
        yield server


@pytest.fixture(scope="module")
def stack(endpoint: FakeEmbeddingsServer) -> Iterator[Stack]:
    root = Path(tempfile.mkdtemp(prefix="aibox-deploy-"))
    running = start_stack(
        root,
        endpoint.settings(),
    )
    try:
        yield running
    finally:
        endpoint.release()
        stop_stack(running)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def token(stack: Stack) -> str:
    wait_until_all_running(stack)
    added = stack.run_aibox("users", "add", USER, "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stdout + added.stderr
    response = httpx2.post(
        f"{stack.api_url}/api/v1/auth/token",
        data={"username": USER, "password": PASSWORD},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def kill_group(pid: int) -> None:
    """SIGKILL a program and everything it started (supervisor gives each a process group)."""
    assert os.getpgid(pid) == pid
    os.killpg(pid, signal.SIGKILL)


@pytest.mark.timeout(300)
def test_every_program_starts_and_answers(stack: Stack) -> None:
    pids = wait_until_all_running(stack)
    assert set(pids) == set(PROGRAMS)
    health = httpx2.get(f"{stack.api_url}/health", timeout=10)
    assert health.status_code == 200, health.text
    # Flower: basic auth always on, with the password from the environment file.
    assert httpx2.get(stack.flower_url, timeout=10).status_code == 401
    authed = httpx2.get(stack.flower_url, auth=("admin", stack.flower_password), timeout=10)
    assert authed.status_code == 200
    # The worker consumes all three queues under supervisor's environment (REMAP_SIGTERM).
    worker_env = Path(f"/proc/{pids['worker']}/environ").read_bytes().split(b"\0")
    assert b"REMAP_SIGTERM=SIGQUIT" in worker_env
    assert b"AIBOX_ENVIRONMENT=production" in worker_env
    assert "file_processing" in stack.log("worker")
    assert re.search(r"aibox@\S+ ready", stack.log("worker"))


@pytest.mark.timeout(400)
@pytest.mark.parametrize("program", ["api", "flower", "worker"])
def test_supervisor_restarts_a_killed_program(stack: Stack, program: str) -> None:
    before = wait_until_all_running(stack)
    kill_group(before[program])
    after = wait_until_all_running(stack)
    assert after[program] != before[program]
    for other in set(PROGRAMS) - {program}:
        assert after[other] == before[other], f"{other} restarted too"
    assert api_healthy(stack)
    assert flower_answers(stack)


def job_lines(stack: Stack, job_id: str, word: str) -> int:
    pattern = re.compile(rf"Task \S+\[{re.escape(job_id)}\] {word}")
    return len(pattern.findall(stack.log("worker")))


@pytest.mark.timeout(300)
def test_job_running_when_the_worker_is_killed_completes_exactly_once(
    stack: Stack, token: str, endpoint: FakeEmbeddingsServer
) -> None:
    pids = wait_until_all_running(stack)
    headers = {"Authorization": f"Bearer {token}"}
    endpoint.hold()  # the job will wait inside its embedding request until released
    response = httpx2.post(
        f"{stack.api_url}/api/v1/files",
        files={"file": ("notes.txt", b"Ada Lovelace met Charles Babbage in London.", "text/plain")},
        headers=headers,
        timeout=120,
    )
    assert response.status_code == 202, response.text
    file_id, job_id = response.json()["data"]["file_id"], response.json()["data"]["job_id"]

    def status() -> dict[str, Any]:
        got = httpx2.get(f"{stack.api_url}/api/v1/files/{file_id}/status", headers=headers)
        return dict(got.json()["data"])

    endpoint.wait_held(1, timeout=60)
    assert job_lines(stack, job_id, "received") == 1
    kill_group(pids["worker"])
    # Killed mid-job: it had started and had not finished.
    assert job_lines(stack, job_id, "succeeded") == 0
    assert status()["status"] == "processing"
    endpoint.release()  # the redelivered run goes through

    after = wait_until_all_running(stack)
    assert after["worker"] != pids["worker"]

    def ended() -> dict[str, Any] | None:
        now = status()
        return now if now["status"] in {"completed", "failed"} else None

    final = wait_for(ended, timeout=120, interval=1)
    assert final["status"] == "completed", final
    assert final["chunking"]["chunk_count"] > 0
    assert final["vectorization"]["vector_count"] == final["chunking"]["chunk_count"]
    job = httpx2.get(f"{stack.api_url}/api/v1/jobs/{job_id}", headers=headers).json()["data"]
    assert job["state"] == "finished", job
    assert job["celery_state"] == "SUCCESS", job
    # Delivered twice (the killed run, the redelivery), finished once.
    assert job_lines(stack, job_id, "received") == 2
    assert job_lines(stack, job_id, "succeeded") == 1


@pytest.mark.timeout(300)
def test_shutdown_stops_the_worker_cleanly_before_redis(stack: Stack) -> None:
    wait_until_all_running(stack)
    stop_stack(stack)
    assert stack.process.returncode == 0
    log = (stack.var / "log" / "supervisord.log").read_text()
    assert "SIGKILL" not in log.split("received SIGTERM")[-1], log
    stopped = re.findall(r"stopped: (\w+) \((.*?)\)", log.split("received SIGTERM")[-1])
    order = [name for name, _ in stopped]
    assert set(order) == set(PROGRAMS), stopped
    assert order[-1] == "server", stopped  # Redis outlived everything using it
    assert dict(stopped)["worker"] == "exit status 0", stopped
    assert not pings(stack.redis_port)
