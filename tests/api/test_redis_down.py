"""With Redis gone the API answers 503 in the envelope (no traceback), and recovers by itself."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import redis

from aibox.server import start_server, stop_server
from tests.support import ROOT, free_port, stop_process, wait_for

pytestmark = pytest.mark.slow


def _get(url: str, **kwargs: object) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=10, **kwargs)  # type: ignore[arg-type]
    except httpx.HTTPError:
        return None


def test_api_answers_503_while_redis_is_down_and_recovers(
    spawn: Callable[..., Any], tmp_path: Path
) -> None:
    redis_port, api_port = free_port(), free_port()
    server = start_server(redis_port, tmp_path / "redis")
    env = {
        **os.environ,
        "AIBOX_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "AIBOX_BROKER_URL": f"redis://127.0.0.1:{redis_port}/1",
        "AIBOX_VAR_DIR": str(tmp_path / "var"),
    }
    subprocess.run(
        [sys.executable, "-m", "aibox.cli", "users", "add", "ops", "--password-stdin"],
        input="ops-password-1\n",
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    api = spawn(
        [sys.executable, "-m", "uvicorn", "aibox.api.main:app", "--port", str(api_port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{api_port}"
    try:
        wait_for(lambda: _get(f"{base}/health"), timeout=30, interval=0.2)
        token = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": "ops", "password": "ops-password-1"}
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        ok = _get(f"{base}/api/v1/files", headers=auth)
        assert ok is not None
        assert ok.status_code == 200
        stop_server(server)
        for path in ("/api/v1/files", "/health"):
            response = _get(f"{base}{path}", headers=auth)
            assert response is not None, path
            assert response.status_code == 503, (path, response.text)
            body = response.json()
            assert body["success"] is False
            assert "Traceback" not in response.text
            if path != "/health":
                assert body["code"] == "service_unavailable"
        server = start_server(redis_port, tmp_path / "redis")  # same data: the user is back
        recovered = wait_for(
            lambda: (
                (r := _get(f"{base}/api/v1/files", headers=auth)) is not None
                and r.status_code == 200
            ),
            timeout=30,
            interval=0.5,
        )
        assert recovered
    finally:
        stop_process(api)
        stop_server(server)
    with pytest.raises(redis.ConnectionError), redis.Redis(port=redis_port) as client:
        client.ping()
