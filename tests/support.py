"""Helpers shared by the tests (no fixtures, no configuration: see conftest.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kombu import Exchange, Queue

from aibox.queues import QUEUES as QUEUES  # the tests' name for them

ROOT = Path(__file__).resolve().parent.parent
#: The queue of ``celery_worker``, the in-process worker of celery.contrib.pytest (conftest).
IN_PROCESS_QUEUE = Queue("aibox-test-in-process", Exchange("aibox-test-in-process"))


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_aibox(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``aibox ARGS`` in its own process (as systemd, supervisor or a person runs it), from the
    repository's root, with its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "aibox.cli", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_for(predicate: Callable[[], Any], timeout: float = 30, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s: {predicate}")
        time.sleep(interval)


def start_worker_process(
    tmp_root: Path,
    name: str,
    queues: tuple[str, ...],
    *extra: str,
    app_module: str = "aibox",
    concurrency: int = 2,
    env: dict[str, str] | None = None,
    command: str = "aibox",
) -> tuple[subprocess.Popen[bytes], Any, str]:
    """Start a worker subprocess, wait until it answers ping; returns (process, log, node).

    ``command="aibox"`` starts ``aibox worker`` (what make run, systemd, supervisor and
    compose start); ``"celery"`` starts ``celery -A app_module worker`` (Celery's own command,
    and the only one for the test apps of tests/faults).
    """
    from aibox import app

    log = open(tmp_root / f"worker-{name}.log", "ab")  # noqa: SIM115 - closed by the caller
    nodename = f"{name}-{os.getpid()}@localhost"
    if command == "aibox" and app_module == "aibox":
        start = [sys.executable, "-m", "aibox.cli", "worker"]
    else:
        start = [sys.executable, "-m", "celery", "-A", app_module, "worker", "-P", "prefork"]
    process = subprocess.Popen(
        [
            *start,
            "-Q",
            ",".join(queues),
            "-c",
            str(concurrency),
            "-n",
            nodename,
            "-l",
            "INFO",
            "--without-gossip",
            # Mingle asks the other workers for their revoked ids and clock at start: 1 s per
            # worker, and aibox keeps revoked jobs out of the broker itself (monitoring/jobs.py).
            "--without-mingle",
            *extra,
        ],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def answers() -> bool:
        if process.poll() is not None:
            log.close()
            tail = Path(log.name).read_text(errors="replace")[-3000:]
            pytest.fail(f"worker {nodename} exited with {process.returncode}:\n{tail}")
        return bool(app.control.ping(destination=[nodename], timeout=0.5))

    try:
        wait_for(answers, timeout=60, interval=0.2)
    except BaseException:
        stop_process(process)
        log.close()
        raise
    return process, log, nodename


def stop_process(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM a child and wait; SIGKILL it if it does not stop."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def kill_whole_worker(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a worker and its pool processes, as a machine dying would: nothing of it gets
    to return a job."""
    children = subprocess.run(
        ["pgrep", "-P", str(process.pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    process.kill()
    for child in children:
        os.kill(int(child), signal.SIGKILL)
    process.wait()


def headless_chromium(profile: str) -> list[str]:
    """Debian's Chromium, headless, in a fresh profile, reaching for nothing but the page."""
    return [
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]


def pings(port: int) -> bool:
    """True when a Redis server answers PING on ``port``."""
    import redis

    try:
        with redis.Redis(port=port) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


@dataclass
class HeldWorker:
    """A worker whose jobs wait inside their embedding request until the test releases them."""

    node: str
    process: subprocess.Popen[bytes]
    endpoint: Any  # tests.fakes.embeddings_server.FakeEmbeddingsServer

    def wait_running(self, jobs: int = 1, timeout: float = 60) -> None:
        """Block until ``jobs`` jobs are held: started, chunked, waiting for their vectors."""
        self.endpoint.wait_held(jobs, timeout=timeout)

    def hold(self) -> None:
        """Hold every job's embedding request again (after a ``release``)."""
        self.endpoint.hold()

    def release(self) -> None:
        """Let the held jobs (and every later one) run to their end."""
        self.endpoint.release()


#: Fixtures that start processes of their own (servers, ``aibox up``, supervisord).
PROCESS_FIXTURES = frozenset({"spawn", "stack"})


def needs_a_worker(fixtures: Iterable[str]) -> bool:
    """True when a test uses a worker: a fixture named ``worker`` or ``*_worker`` (a real one,
    or one in the test's own process), or one that starts processes of its own."""
    return any(
        name == "worker" or name.endswith("_worker") or name in PROCESS_FIXTURES
        for name in fixtures
    )
