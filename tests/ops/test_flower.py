"""Flower, started the way operators start it (`aibox flower`): auth always on, the worker and
its queues visible, and a dashboard that renders in a real browser."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.support import ROOT, free_port, headless_chromium, run_aibox, stop_process, wait_for

pytestmark = pytest.mark.slow

USER, PASSWORD = "ops", "flower-test-password"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def flower(worker: subprocess.Popen[bytes], tmp_path: Path) -> Iterator[str]:
    """`aibox flower` on a free port, next to the session's worker; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "AIBOX_FLOWER_USER": USER,
        "AIBOX_FLOWER_PASSWORD": PASSWORD,
        "AIBOX_VAR_DIR": str(tmp_path),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "aibox.cli", "flower", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _get(f"{base}/healthcheck"), timeout=60, interval=0.5)
        yield base
    finally:
        stop_process(process)
    assert (tmp_path / "flower.db").exists() or any(tmp_path.glob("flower.db*"))


def _get(url: str, **kwargs: Any) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=10, **kwargs)
    except httpx.HTTPError:
        return None


def _workers(base: str) -> dict[str, Any]:
    response = _get(f"{base}/api/workers?refresh=1", auth=(USER, PASSWORD))
    if response is None or response.status_code != 200:
        return {}
    data = response.json()
    return data if any(v.get("active_queues") for v in data.values()) else {}


def test_flower_requires_credentials_and_shows_the_worker_and_queues(flower: str) -> None:
    for path in ("/", "/api/workers", "/api/tasks", "/metrics"):
        response = _get(f"{flower}{path}")
        assert response is not None
        assert response.status_code == 401, path
    wrong = _get(f"{flower}/api/workers", auth=(USER, "not-the-password"))
    assert wrong is not None
    assert wrong.status_code == 401
    workers = wait_for(lambda: _workers(flower), timeout=60, interval=1)
    queues = {q["name"] for info in workers.values() for q in info.get("active_queues", [])}
    assert queues == {"file_processing", "vectorization", "kg_extraction"}
    metrics = _get(f"{flower}/metrics", auth=(USER, PASSWORD))
    assert metrics is not None
    assert metrics.status_code == 200
    assert "flower_" in metrics.text


def test_flower_refuses_to_start_without_credentials_outside_development() -> None:
    env = {**os.environ, "AIBOX_ENVIRONMENT": "production", "AIBOX_FLOWER_PASSWORD": ""}
    result = run_aibox("flower", "--port", str(free_port()), env=env)
    assert result.returncode == 1
    assert "AIBOX_FLOWER_PASSWORD" in result.stderr


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_dashboard_renders_in_headless_chromium(flower: str) -> None:
    worker_names = list(wait_for(lambda: _workers(flower), timeout=60, interval=1))
    url = flower.replace("http://", f"http://{USER}:{PASSWORD}@") + "/workers"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "flower-dashboard.png"
    shot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        base = [
            *headless_chromium(profile),
            "--window-size=1280,800",
            "--virtual-time-budget=5000",
        ]
        dom = subprocess.run(
            [*base, "--dump-dom", url], capture_output=True, text=True, timeout=120
        ).stdout
        subprocess.run([*base, f"--screenshot={shot}", url], capture_output=True, timeout=120)
    # A real page: Flower's dashboard listing the live worker, not an error or login page.
    assert "Flower" in dom
    assert any(name in dom for name in worker_names), dom[:2000]
    assert "401" not in dom.split("<body", 1)[-1][:500]
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 20_000  # a rendered page, not a blank or tiny error image
