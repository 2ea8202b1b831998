"""Redis restarted with jobs queued and running: with the append-only file on, none is lost
and none completes twice; the workers reconnect by themselves.

This test runs its own Redis server and workers (the session's server stays up for the rest
of the suite) and publishes through a Celery app configured for that server.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery, signals

from aibox.server import start_server, stop_server
from aibox.signals import _on_publish
from tests.faults.queue import FAULT_QUEUE
from tests.faults.tasks import completions_key, executions_key
from tests.support import ROOT, free_port, stop_process, wait_for

pytestmark = pytest.mark.slow

JOBS = 50
HOLD_S = 0.4  # 50 jobs on 4 processes: about 5 s, so the restart finds most queued


@pytest.mark.timeout(300)
def test_restart_with_jobs_queued_and_running_loses_and_duplicates_none(
    spawn: Callable[..., Any], tmp_path: Path
) -> None:
    port = free_port()
    data_url, broker_url = f"redis://127.0.0.1:{port}/0", f"redis://127.0.0.1:{port}/1"
    server = start_server(port, tmp_path / "redis")
    env = {**os.environ, "AIBOX_REDIS_URL": data_url, "AIBOX_BROKER_URL": broker_url}
    workers: list[subprocess.Popen[bytes]] = []
    logs: list[Any] = []
    try:
        for n in range(2):
            log = open(tmp_path / f"worker-{n}.log", "wb")  # noqa: SIM115 - closed below
            logs.append(log)
            workers.append(
                spawn(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "tests.faults.app",
                        "worker",
                        "-Q",
                        FAULT_QUEUE.name,
                        "-c",
                        "2",
                        "-n",
                        f"restart-{n}-{port}@localhost",
                        "-l",
                        "INFO",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        publisher = Celery(broker=broker_url)
        publisher.conf.task_serializer = "json"
        keys = [f"job-{i}" for i in range(JOBS)]
        # aibox's publish signal handler would record each job in the registry of the
        # *session* server this process is configured for: not this test's business, and
        # slow when that server is not running. The workers record the jobs on this server.
        signals.before_task_publish.disconnect(_on_publish)
        try:
            with publisher.producer_or_acquire() as producer:
                for key in keys:
                    publisher.send_task(
                        "aibox.test.hold",
                        args=[key, HOLD_S],
                        queue=FAULT_QUEUE.name,
                        exchange=FAULT_QUEUE.exchange.name,
                        routing_key=FAULT_QUEUE.routing_key,
                        producer=producer,
                    )
        finally:
            signals.before_task_publish.connect(_on_publish)
        data = redis.Redis(port=port, db=0, decode_responses=True)

        def done() -> int:
            return sum(int(data.get(completions_key(k)) or 0) > 0 for k in keys)

        wait_for(lambda: done() >= 10, timeout=60)  # some finished, some running, most queued
        stop_server(server)  # SIGTERM: Redis writes its append-only file and exits
        server = start_server(port, tmp_path / "redis")
        try:
            wait_for(lambda: done() == JOBS, timeout=180, interval=1)
        except BaseException:
            pytest.fail(_diagnosis(done(), redis.Redis(port=port, db=1), tmp_path))
        twice = {
            k: data.get(completions_key(k)) for k in keys if data.get(completions_key(k)) != "1"
        }
        assert twice == {}, f"completed more than once: {twice}"
        runs = sum(data.llen(executions_key(k)) for k in keys)
        assert runs >= JOBS  # a task cut off by the restart runs again, but completes once
        data.close()
        publisher.close()
    finally:
        for worker in workers:
            stop_process(worker)
        for log in logs:
            log.close()
        stop_server(server)


def _diagnosis(done: int, broker: redis.Redis, tmp_path: Path) -> str:
    """What a reader of a failed run needs: progress, the broker's lists, the workers' logs."""
    queued = broker.llen(FAULT_QUEUE.name)
    unacked = broker.hlen("unacked")
    tails = "\n".join(
        f"--- {log.name} ---\n" + log.read_text(errors="replace")[-3000:]
        for log in sorted(tmp_path.glob("worker-*.log"))
    )
    return f"{done}/{JOBS} completed; {queued} queued; {unacked} unacked\n{tails}"
