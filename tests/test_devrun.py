"""`aibox up` (what `make run` runs): the whole stack from nothing; a dead worker is restarted;
Ctrl-C, sent to the process group as a terminal sends it, stops it all in order and loses no job.
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
import redis

from tests.support import ROOT, free_port, wait_for

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


def test_up_starts_server_worker_api_and_flower_and_stops_them(
    spawn: Callable[..., Any], tmp_path: Path
) -> None:
    redis_port = free_port()
    env = _env(tmp_path, redis_port)
    api = f"http://127.0.0.1:{env['AIBOX_API_PORT']}"
    flower = f"http://127.0.0.1:{env['AIBOX_FLOWER_PORT']}"
    log = tmp_path / "up.log"
    with open(log, "wb") as out:
        up = spawn(
            [sys.executable, "-m", "aibox.cli", "up"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        health = wait_for(lambda: _get(f"{api}/health"), timeout=90, interval=0.5)
        assert health.status_code == 200
        assert (tmp_path / "var" / "redis" / "appendonlydir").is_dir()  # embedded server started
        # Flower requires its credentials.
        denied = wait_for(lambda: _get(f"{flower}/api/workers"), timeout=60, interval=0.5)
        assert denied.status_code == 401
        workers = wait_for(
            lambda: _workers(flower, ("admin", "s3cret-for-test")), timeout=60, interval=1
        )
        queues = {q["name"] for info in workers.values() for q in info.get("active_queues", [])}
        assert queues == {"file_processing", "vectorization", "kg_extraction"}
        # The first account was created and shown once; without a token the API says 401.
        password = re.search(r"user admin, password (\S+)", log.read_text())
        assert password is not None, log.read_text()
        assert httpx.get(f"{api}/api/v1/files").status_code == 401
        token = httpx.post(
            f"{api}/api/v1/auth/token", data={"username": "admin", "password": password[1]}
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        # The stack processes a document end to end.
        submitted = httpx.post(
            f"{api}/api/v1/files",
            files={"file": ("n.md", b"# N\n\nAda Lovelace lived in London.")},
            headers=auth,
        ).json()["data"]
        status_url = f"{api}/api/v1/files/{submitted['file_id']}/status"
        wait_for(
            lambda: httpx.get(status_url, headers=auth).json()["data"]["status"] == "completed",
            timeout=60,
            interval=0.3,
        )
        # A worker killed by the kernel (OOM, kill -9) is restarted; the stack keeps serving.
        worker_pid = re.search(r"worker\s+pid (\d+)", log.read_text())
        assert worker_pid is not None, log.read_text()
        os.kill(int(worker_pid[1]), signal.SIGKILL)
        wait_for(lambda: "worker restarted: pid" in log.read_text(), timeout=30, interval=0.2)
        assert re.search(r"worker was killed by SIGKILL; restarting it in \d+s\.", log.read_text())
        second = httpx.post(
            f"{api}/api/v1/files",
            files={"file": ("m.md", b"# M\n\nGrace Hopper lived in New York.")},
            headers=auth,
        ).json()["data"]
        status_url = f"{api}/api/v1/files/{second['file_id']}/status"
        wait_for(
            lambda: httpx.get(status_url, headers=auth).json()["data"]["status"] == "completed",
            timeout=60,
            interval=0.3,
        )
        up.send_signal(signal.SIGINT)
        assert up.wait(90) == 0, log.read_text()
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    assert _get(f"{api}/health") is None
    assert _get(flower) is None
    with (
        pytest.raises(redis.ConnectionError),
        redis.Redis(port=redis_port, socket_connect_timeout=1) as client,
    ):
        client.ping()
    text = log.read_text()
    for name in ("redis", "worker", "api", "flower"):
        assert f"stopping {name}" in text


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
    env = {
        **_env(tmp_path, redis_port),
        "AIBOX_EMBEDDER": "openai",
        "AIBOX_OPENAI_BASE_URL": endpoint.url,
        "AIBOX_OPENAI_EMBEDDING_MODEL": "fake-embed",
        "AIBOX_OPENAI_TIMEOUT_S": "600",
    }
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
        assert not pings_at(redis_port)

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


def pings_at(port: int) -> bool:
    try:
        with redis.Redis(port=port, socket_connect_timeout=1) as client:
            return bool(client.ping())
    except redis.ConnectionError:
        return False


def test_up_refuses_a_server_without_falkordb(tmp_path: Path, plain_redis: int) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aibox.cli", "up"],
        cwd=ROOT,
        env=_env(tmp_path, plain_redis),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "lacks the FalkorDB module" in result.stdout


def _workers(flower: str, auth: tuple[str, str]) -> dict[str, dict[str, list[dict[str, str]]]]:
    response = _get(f"{flower}/api/workers?refresh=1", auth=auth)
    if response is None or response.status_code != 200:
        return {}
    data = response.json()
    return data if data and all(v.get("active_queues") for v in data.values()) else {}


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
