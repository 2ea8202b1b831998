"""``aibox up`` (what ``make run`` calls): everything for development, in one terminal.

Starts the embedded Redis server when the configured one is unreachable and local, checks
that the server has vector sets and FalkorDB, then runs one worker on all three queues, the
API and Flower (basic auth always on). Ctrl-C stops them all: the API and Flower first, then
the worker (which finishes or returns its running tasks), then the server. A child that dies
meanwhile (a killed worker, say) is restarted after a short backoff, with a line saying why.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from urllib.parse import urlsplit

import redis

from aibox.connections import check_capabilities
from aibox.errors import ConfigurationError
from aibox.queues import QUEUES
from aibox.server import start_server, stop_server
from aibox.services import user_store
from aibox.settings import Settings

#: A child that exits sooner than this after starting has failed to start, not crashed.
STARTED_AFTER_S = 10.0
#: After this many failed starts in a row, ``aibox up`` gives up and stops everything.
MAX_FAILED_STARTS = 5
#: The longest wait before a restart (the wait doubles with each failed start, from 1 s).
MAX_BACKOFF_S = 30.0


@dataclass
class Child:
    """A process ``aibox up`` runs, restarts when it dies and stops on Ctrl-C."""

    name: str
    launch: Callable[[], subprocess.Popen[bytes]]
    where: str
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failed_starts: int = 0
    restart_at: float = 0.0

    def start(self) -> None:
        self.process = self.launch()
        self.started_at = time.monotonic()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def redis_reachable(url: str) -> bool:
    """True when a Redis server answers PING at ``url``."""
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def up(settings: Settings, *, emit: Callable[[str], None] = print) -> int:
    """Run the development stack until interrupted; returns the exit status."""
    log_dir = settings.var_dir.resolve() / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    children: list[Child] = []
    stopping = False

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if not redis_reachable(settings.redis_url):
            if not settings.redis_is_local():
                emit(f"Redis at {settings.redis_url} is unreachable and not local; start it first.")
                return 1
            port = urlsplit(settings.redis_url).port or 6379
            emit(f"starting the embedded Redis + FalkorDB server on 127.0.0.1:{port} ...")
            data, log = settings.redis_data_path, log_dir / "redis.log"
            children.append(
                Child("redis", lambda: start_server(port, data, log_path=log), f"127.0.0.1:{port}")
            )
            children[-1].start()
        check_capabilities(redis.Redis.from_url(settings.redis_url, decode_responses=True))
        _first_admin(settings, emit)
        env = _child_env(settings, emit)
        aibox = [sys.executable, "-m", "aibox.cli"]
        api_at = f"http://{settings.api_host}:{settings.api_port} (docs at /docs)"
        flower_at = f"http://{settings.flower_host}:{settings.flower_port}"
        flower_at += f" (user {settings.flower_user})"
        for name, where in (
            ("worker", f"queues {', '.join(QUEUES)}"),
            ("api", api_at),
            ("flower", flower_at),
        ):
            children.append(Child(name, _spawner([*aibox, name], env), where))
            children[-1].start()
        for child in children:
            assert child.process is not None
            emit(f"  {child.name:<7} pid {child.process.pid:<7} {child.where}")
        emit("aibox is running; press Ctrl-C to stop.")
        while not stopping:
            for child in children:
                if not supervise(child, emit):
                    return 1
            time.sleep(0.2)
        return 0
    except ConfigurationError as exc:
        emit(f"aibox cannot start: {exc}")
        return 1
    finally:
        _stop_all(children, settings, emit)


def supervise(child: Child, emit: Callable[[str], None]) -> bool:
    """Restart ``child`` when it has died, after a backoff; False when it keeps failing."""
    now = time.monotonic()
    if child.process is None:  # waiting out its backoff
        if now >= child.restart_at:
            try:
                child.start()
            except (OSError, RuntimeError, TimeoutError) as exc:
                child.started_at = now
                return _exited(child, f"failed to start ({exc})", emit)
            assert child.process is not None
            emit(f"{child.name} restarted: pid {child.process.pid}")
        return True
    code = child.process.poll()
    if code is None:
        return True
    how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
    return _exited(child, how, emit)


def _exited(child: Child, how: str, emit: Callable[[str], None]) -> bool:
    """Schedule the restart of a child that ``how`` ended; False when it should not be."""
    child.process = None
    quick = time.monotonic() - child.started_at < STARTED_AFTER_S
    child.failed_starts = child.failed_starts + 1 if quick else 0
    if child.failed_starts >= MAX_FAILED_STARTS:
        emit(
            f"{child.name} {how}, the {MAX_FAILED_STARTS}th time in a row within "
            f"{STARTED_AFTER_S:.0f}s of starting; stopping everything (its output is above)."
        )
        return False
    delay = min(MAX_BACKOFF_S, 2.0 ** max(0, child.failed_starts - 1))
    emit(f"{child.name} {how}; restarting it in {delay:.0f}s.")
    child.restart_at = time.monotonic() + delay
    return True


def _first_admin(settings: Settings, emit: Callable[[str], None]) -> None:
    """In development, with no accounts yet, create ``admin`` and show its password once."""
    if settings.environment != "development" or user_store().count() > 0:
        return
    password = secrets.token_urlsafe(12)
    user_store().add("admin", password, role="admin")
    emit(f"created the first account: user admin, password {password} (role admin)")
    emit("  more: aibox users add NAME [--role admin]; change it: aibox users passwd admin")


def _child_env(settings: Settings, emit: Callable[[str], None]) -> dict[str, str]:
    env = dict(os.environ)
    password = settings.flower_password
    if not password:
        if settings.environment != "development":
            raise ConfigurationError(
                "Flower needs credentials: set AIBOX_FLOWER_USER and AIBOX_FLOWER_PASSWORD"
            )
        password = secrets.token_urlsafe(12)
        emit(f"Flower password for this run (set AIBOX_FLOWER_PASSWORD to fix it): {password}")
    env["AIBOX_FLOWER_PASSWORD"] = password
    # Ctrl-C / SIGTERM: running tasks get the soft-shutdown timeout, then go back to the queue.
    env.setdefault("REMAP_SIGTERM", "SIGQUIT")
    return env


def _spawner(argv: list[str], env: dict[str, str]) -> Callable[[], subprocess.Popen[bytes]]:
    # A session of its own: Ctrl-C reaches only `aibox up`, which stops children in order.
    return lambda: subprocess.Popen(argv, env=env, start_new_session=True)


def _stop_all(children: list[Child], settings: Settings, emit: Callable[[str], None]) -> None:
    """Stop in order: the API and Flower together, then the worker (running jobs get the
    soft-shutdown timeout, then go back to the queue), then the server, which is still
    there for the worker to return its jobs to."""
    by_name = {child.name: child for child in children}
    grace = settings.worker_soft_shutdown_timeout_s + 15
    for names in (("api", "flower"), ("worker",), ("redis",)):
        stopping = [by_name[n] for n in names if n in by_name and by_name[n].running()]
        for child in stopping:
            emit(f"stopping {child.name} ...")
            assert child.process is not None
            if child.name == "redis":
                stop_server(child.process)
            else:
                child.process.terminate()
        for child in stopping:
            assert child.process is not None
            try:
                child.process.wait(grace)
            except subprocess.TimeoutExpired:
                emit(f"{child.name} did not stop within {grace:.0f}s; killing it")
                child.process.kill()
                child.process.wait()
            emit(f"{child.name} stopped")
