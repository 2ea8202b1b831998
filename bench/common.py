"""What every scenario shares: a private Redis, child processes, timing and statistics.

Each scenario starts its own embedded Redis + FalkorDB server (``aibox.server.start_server``)
on a free port with a temporary directory, starts its own worker processes, and stops all of
them by PID when it ends. aibox reads its configuration from ``AIBOX_*`` variables, so the
environment is set before anything from aibox is imported in a child process.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until truthy; raise TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f}s")
        time.sleep(interval)


@dataclass
class Stack:
    """A private Redis server and the child processes a scenario started."""

    port: int
    tmp: Path
    env: dict[str, str]
    server: subprocess.Popen[bytes] | None = None
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def spawn(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> Any:
        """Start a child (own process group, log in tmp); it is stopped with the stack."""
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps its own fd
        process = subprocess.Popen(
            list(argv),
            cwd=ROOT,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.children.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
        """Stop one child by PID: SIGTERM to its process group, SIGKILL if it hangs."""
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if process in self.children:
            self.children.remove(process)

    def log_tail(self, name: str, chars: int = 2000) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


@contextlib.contextmanager
def private_stack(name: str) -> Iterator[Stack]:
    """A private embedded Redis + FalkorDB server on a free port; everything stopped after."""
    from aibox.server import start_server, stop_server

    tmp = Path(tempfile.mkdtemp(prefix=f"aibox-bench-{name}-"))
    port = free_port()
    env = {
        **os.environ,
        "AIBOX_ENVIRONMENT": "test",
        "AIBOX_REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "AIBOX_BROKER_URL": f"redis://127.0.0.1:{port}/1",
        "AIBOX_VAR_DIR": str(tmp / "var"),
        "AIBOX_JWT_SECRET": secrets.token_urlsafe(48),
        "AIBOX_LOG_LEVEL": "WARNING",
        "REMAP_SIGTERM": "SIGQUIT",
        "PYTHONPATH": str(ROOT),
    }
    stack = Stack(port=port, tmp=tmp, env=env)
    stack.server = start_server(port, tmp / "redis", log_path=tmp / "redis.log")
    try:
        yield stack
    finally:
        for child in list(reversed(stack.children)):
            stack.stop(child)
        stop_server(stack.server)
        shutil.rmtree(tmp, ignore_errors=True)


def celery_worker(
    stack: Stack,
    name: str,
    app_module: str,
    queues: str,
    concurrency: int,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """``celery -A app_module worker`` (prefork); returns once it answers a ping."""
    node = f"{name}-{os.getpid()}@localhost"
    argv = [PY, "-m", "celery", "-A", app_module, "worker", "-Q", queues]
    argv += ["-c", str(concurrency), "-P", "prefork", "-n", node, "-l", "WARNING"]
    argv += ["--without-gossip", "--without-mingle"]
    process: subprocess.Popen[bytes] = stack.spawn(name, argv, env)
    wait_for(
        lambda: _celery_answers(stack, process, name, app_module, node, env),
        timeout=120,
        what=f"worker {name}",
        interval=0.5,
    )
    return process


def _celery_answers(
    stack: Stack,
    process: subprocess.Popen[bytes],
    name: str,
    app_module: str,
    node: str,
    env: dict[str, str] | None,
) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"worker {name} exited:\n{stack.log_tail(name)}")
    code = (
        f"import sys; from {app_module} import app; "
        f"sys.exit(0 if app.control.ping(destination=[{node!r}], timeout=1) else 1)"
    )
    check = subprocess.run(
        [PY, "-c", code], cwd=ROOT, env={**stack.env, **(env or {})}, capture_output=True
    )
    return check.returncode == 0


def pool_children(pid: int) -> list[int]:
    """The PIDs of a process's children (a prefork worker's pool processes)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []


def peak_rss_mb(pid: int) -> float | None:
    """A process's peak resident set size (VmHWM) in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def summary(values: Sequence[float]) -> dict[str, Any]:
    """Median, min, max and the raw values of one measurement over rounds."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "values": list(values),
    }


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by nearest rank."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def rotate(items: Sequence[Any], round_no: int) -> list[Any]:
    """``items`` starting at a different one each round, so no system always goes first."""
    shift = round_no % len(items)
    return list(items[shift:]) + list(items[:shift])


def run_json(
    stack: Stack, argv: Sequence[str], timeout: float, env: dict[str, str] | None = None
) -> Any:
    """Run a child to completion and parse the JSON it prints last."""
    import json

    done = subprocess.run(
        list(argv),
        cwd=ROOT,
        env={**stack.env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{argv} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
