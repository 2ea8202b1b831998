"""The API's docs pages work without internet access: their assets come from a package."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient

from tests.support import free_port, headless_chromium, wait_for


@pytest.fixture
def docs_client(redis_server: int) -> Iterator[TestClient]:
    from aibox.api.main import app

    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize(("page", "asset"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", None)])
def test_the_docs_pages_load_nothing_from_another_host(
    docs_client: TestClient, page: str, asset: str | None
) -> None:
    html = docs_client.get(page).text
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, html
    assert all(s.startswith("/static-offline-docs/") for s in sources), sources
    for source in sources:
        served = docs_client.get(source)
        assert served.status_code == 200, source
        assert len(served.content) > 1000, source
    if asset is not None:
        assert f"/static-offline-docs/{asset}" in sources


@pytest.fixture
def api_server(redis_server: int) -> Iterator[str]:
    """The API on a real port, served by uvicorn in a thread of this process."""
    from aibox.api.main import app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, timeout=30, interval=0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_swagger_ui_lists_the_operations_in_headless_chromium(api_server: str) -> None:
    """What a person sees at /docs on a machine without internet access (like this one): the
    page renders every operation, from the package's assets alone."""
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [
                *headless_chromium(profile),
                "--virtual-time-budget=10000",
                "--dump-dom",
                f"{api_server}/docs",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    paths = set(re.findall(r'data-path="([^"]+)"', dom))
    for path in ("/api/v1/files", "/api/v1/search", "/api/v1/auth/token", "/health"):
        assert path in paths, sorted(paths) or dom[:2000]
    assert len(paths) >= 20
