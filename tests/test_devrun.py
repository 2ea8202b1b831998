"""`aibox up` (what `make run` runs): the whole stack from nothing, then Ctrl-C stops it all."""

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
