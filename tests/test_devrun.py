"""`aibox up` (what `make run` runs): Ctrl-C, sent to the process group as a terminal sends it,
stops it all in order and loses no job; a child that keeps dying is restarted with backoff, then
given up. (tests/test_readme.py runs `make run` itself: the whole stack from nothing, Flower
behind auth, a killed worker restarted.)
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.support import ROOT, free_port, pings, run_aibox, wait_for

pytestmark = pytest.mark.slow


def _env(tmp_path: Path, redis_port: int) -> dict[str, str]:
    url = f"redis://127.0.0.1:{redis_port}/0"
    return {
        **os.environ,
        "AIBOX_ENVIRONMENT": "development",
        "AIBOX_REDIS_URL": url,
        "AIBOX_BROKER_URL": url,
        "AIBOX_VAR_DIR": str(tmp_path / "var"),
        "AIBOX_API_PORT": str(free_port()),
        "AIBOX_FLOWER_PORT": str(free_port()),
        "AIBOX_FLOWER_PASSWORD": "s3cret-for-test",
        "AIBOX_WORKER_CONCURRENCY": "1",
        "AIBOX_WORKER_SOFT_SHUTDOWN_TIMEOUT_S": "5",
    }


def _get(url: str, **kwargs: object) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=2, **kwargs)  # type: ignore[arg-type]
    except httpx.HTTPError:
        return None


def test_ctrl_c_to_the_process_group_stops_in_order_and_the_running_job_survives(
    spawn: Callable[..., Any], tmp_path: Path
) -> None:
    """As a terminal does on Ctrl-C: SIGINT to the whole foreground process group of `aibox
    up`, with a job running (held inside its embedding request by the fake endpoint, the one
    stand-in: no OpenAI-compatible server exists here). The API and Flower stop first, then
    the worker returns the job to the queue, then Redis; after the next start the job ends."""
    from tests.fakes.embeddings_server import FakeEmbeddingsServer

    redis_port = free_port()
    endpoint = FakeEmbeddingsServer(dim=16).start()
    env = {**_env(tmp_path, redis_port), **endpoint.settings()}
    api = f"http://127.0.0.1:{env['AIBOX_API_PORT']}"
    first, second = tmp_path / "up-1.log", tmp_path / "up-2.log"
    try:
        endpoint.hold()
        up = _start_up(spawn, env, first)
        health = wait_for(lambda: _get(f"{api}/health"), timeout=90, interval=0.5)
        assert health.status_code == 200
        password = re.search(r"user admin, password (\S+)", first.read_text())
        assert password is not None, first.read_text()
        auth = _login(api, "admin", password[1])
        submitted = httpx.post(
            f"{api}/api/v1/files",
            files={"file": ("held.md", b"# Held\n\nAda Lovelace lived in London.")},
            headers=auth,
        ).json()["data"]
        endpoint.wait_held(1, timeout=60)  # the job is running, waiting for its vectors

        os.killpg(up.pid, signal.SIGINT)  # the terminal's Ctrl-C: every process in the group
        assert up.wait(90) == 0, first.read_text()
        text = first.read_text()
        order = [
            "stopping api",
            "stopping flower",
            "stopping worker",
            "Restoring 1 unacknowledged message(s)",
            "worker stopped",
            "stopping redis",
            "redis stopped",
        ]
        where = [text.find(line) for line in order]
        assert -1 not in where, text
        assert where == sorted(where), text
        assert max(text.find("api stopped"), text.find("flower stopped")) < where[2], text
        assert not pings(redis_port)

        # The next start: the job is still queued, and completes once the endpoint answers.
        endpoint.release()
        up = _start_up(spawn, env, second)
        wait_for(lambda: _get(f"{api}/health"), timeout=90, interval=0.5)
        auth = _login(api, "admin", password[1])
        status_url = f"{api}/api/v1/files/{submitted['file_id']}/status"
        wait_for(
            lambda: _status(status_url, auth) in {"completed", "failed"}, timeout=90, interval=0.3
        )
        assert _status(status_url, auth) == "completed", second.read_text()
        os.killpg(up.pid, signal.SIGINT)
        assert up.wait(90) == 0, second.read_text()
    finally:
        endpoint.release()
        endpoint.stop()


def _start_up(spawn: Callable[..., Any], env: dict[str, str], log: Path) -> Any:
    """`aibox up` as the leader of a process group of its own, like a terminal's foreground job."""
    with open(log, "wb") as out:
        return spawn(
            [sys.executable, "-m", "aibox.cli", "up"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _login(api: str, username: str, password: str) -> dict[str, str]:
    token = httpx.post(
        f"{api}/api/v1/auth/token", data={"username": username, "password": password}
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _status(url: str, auth: dict[str, str]) -> str:
    response = _get(url, headers=auth)
    return "" if response is None else str(response.json()["data"]["status"])


def test_up_refuses_a_server_without_falkordb(tmp_path: Path, plain_redis: int) -> None:
    result = run_aibox("up", env=_env(tmp_path, plain_redis))
    assert result.returncode == 1
    assert "lacks the FalkorDB module" in result.stdout
    assert "run `aibox server`" in result.stdout  # and says what to run instead


def test_a_child_that_keeps_failing_to_start_is_retried_with_backoff_then_given_up() -> None:
    """The restart policy, on a real child that exits at once: waits of 1, 2, 4, 8 s, and the
    fifth failed start in a row stops everything; a child that ran for a while before dying
    starts counting again from a 1 s wait."""
    from aibox import devrun

    lines: list[str] = []
    child = devrun.Child("api", lambda: subprocess.Popen([sys.executable, "-c", "exit(3)"]), "")
    child.start()
    assert child.process is not None
    child.process.wait()
    verdicts = []
    for _ in range(devrun.MAX_FAILED_STARTS):
        verdicts.append(devrun.supervise(child, lines.append))
        child.restart_at = 0  # skip the wait itself; the line says how long it would be
        if verdicts[-1]:
            assert devrun.supervise(child, lines.append)  # starts it again
            assert child.process is not None
            child.process.wait()
    assert verdicts == [True, True, True, True, False]
    waits = [int(m[1]) for line in lines if (m := re.search(r"restarting it in (\d+)s", line))]
    assert waits == [1, 2, 4, 8]
    assert all("api exited with code 3" in line for line in lines if "restarting" in line)
    assert "the 5th time in a row" in lines[-1]
    assert "stopping everything" in lines[-1]

    # A crash after a long run is not a failed start: the count starts again.
    child.failed_starts, child.started_at = 3, child.started_at - devrun.STARTED_AFTER_S
    child.process = subprocess.Popen([sys.executable, "-c", "exit(1)"])
    child.process.wait()
    assert devrun.supervise(child, lines.append)
    assert lines[-1] == "api exited with code 1; restarting it in 1s."
