"""`celery -A aibox worker -Q …`, `aibox worker` and `celery -A aibox inspect …` work as
Celery users expect."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from tests.support import ROOT, stop_process


def celery_json(*args: str) -> object:
    out = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "aibox", *args, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)


def test_worker_on_kg_extraction_answers_ping_and_active_queues(
    redis_client: redis.Redis, start_worker: Callable[..., Any]
) -> None:
    process, log, node = start_worker("kg-only", ("kg_extraction",), command="celery")
    try:
        pong = celery_json("inspect", "ping", "-d", node)
        assert pong == {node: {"ok": "pong"}}
        queues = celery_json("inspect", "active_queues", "-d", node)
        assert isinstance(queues, dict)
        assert [q["name"] for q in queues[node]] == ["kg_extraction"]
        registered = celery_json("inspect", "registered", "-d", node)
        assert isinstance(registered, dict)
        assert "process_kg_extraction_only_task" in registered[node]
    finally:
        stop_process(process)
        log.close()


def test_worker_refuses_a_server_without_falkordb(plain_redis: int) -> None:
    port = plain_redis
    env = {**os.environ, "AIBOX_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
    env["AIBOX_BROKER_URL"] = env["AIBOX_REDIS_URL"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "aibox",
            "worker",
            "-Q",
            "kg_extraction",
            "-c",
            "1",
            "-n",
            f"refused-{port}@localhost",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "FalkorDB module" in result.stdout + result.stderr


def test_aibox_worker_is_celerys_worker_built_from_the_settings(
    redis_client: redis.Redis, start_worker: Callable[..., Any]
) -> None:
    process, log, node = start_worker("aibox-kg", ("kg_extraction",))
    try:
        queues = celery_json("inspect", "active_queues", "-d", node)
        assert isinstance(queues, dict)
        assert [q["name"] for q in queues[node]] == ["kg_extraction"]
        stats = celery_json("inspect", "stats", "-d", node)
        assert isinstance(stats, dict)
        assert stats[node]["pool"]["max-concurrency"] == 2
        # The command became the worker (exec): its own environment remaps SIGTERM.
        environ = Path(f"/proc/{process.pid}/environ").read_bytes().split(b"\0")
        assert b"REMAP_SIGTERM=SIGQUIT" in environ
    finally:
        stop_process(process)
        log.close()
    refused = subprocess.run(
        [sys.executable, "-m", "aibox.cli", "worker", "-Q", "kg_extraction,nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert "unknown queue(s) nope" in refused.stderr
