"""``aibox up`` (what ``make run`` calls): everything for development, in one terminal.

Starts the embedded Redis server when the configured one is unreachable and local, checks
that the server has vector sets and FalkorDB, then runs one worker on all three queues, the
API and Flower (basic auth always on). Ctrl-C stops them all: the API and Flower first, then
the worker (which finishes or returns its running tasks), then the server.
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


@dataclass
class Child:
    """A process started by ``aibox up``."""

    name: str
    process: subprocess.Popen[bytes]
    where: str


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
            server = start_server(port, settings.redis_data_path, log_path=log_dir / "redis.log")
            children.append(Child("redis", server, f"redis://127.0.0.1:{port}"))
        check_capabilities(redis.Redis.from_url(settings.redis_url, decode_responses=True))
        _first_admin(settings, emit)
        env = _child_env(settings, emit)
        aibox = [sys.executable, "-m", "aibox.cli"]
        children.append(_spawn("worker", [*aibox, "worker"], env, f"queues {', '.join(QUEUES)}"))
        api_at = f"http://{settings.api_host}:{settings.api_port} (docs at /docs)"
        children.append(_spawn("api", [*aibox, "api"], env, api_at))
        flower_at = f"http://{settings.flower_host}:{settings.flower_port}"
        flower_at += f" (user {settings.flower_user})"
        children.append(_spawn("flower", [*aibox, "flower"], env, flower_at))
        for child in children:
            emit(f"  {child.name:<7} pid {child.process.pid:<7} {child.where}")
        emit("aibox is running; press Ctrl-C to stop.")
        while not stopping:
            for child in children:
                if child.process.poll() is not None:
                    emit(f"{child.name} exited with code {child.process.returncode}; stopping.")
                    return 1
            time.sleep(0.5)
        return 0
    except ConfigurationError as exc:
        emit(f"aibox cannot start: {exc}")
        return 1
    finally:
        _stop_all(children, settings, emit)


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


def _spawn(name: str, argv: list[str], env: dict[str, str], where: str) -> Child:
    # A session of its own: Ctrl-C reaches only `aibox up`, which stops children in order.
    process = subprocess.Popen(argv, env=env, start_new_session=True)
    return Child(name, process, where)


def _stop_all(children: list[Child], settings: Settings, emit: Callable[[str], None]) -> None:
    grace = settings.worker_soft_shutdown_timeout_s + 15
    for child in reversed(children):
        if child.process.poll() is None:
            emit(f"stopping {child.name} ...")
            if child.name == "redis":
                stop_server(child.process)
                continue
            child.process.terminate()
            try:
                child.process.wait(grace)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
