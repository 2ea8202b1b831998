"""Tasks for fault injection only (see tests/faults/app.py for the queue they run on).

Each execution is recorded in Redis (a counter and a list of worker pids per key), so a test
can tell "ran once" from "ran twice" no matter which process ran it or how it died.
"""

from __future__ import annotations

import os
import time

from aibox.celery_app import app
from aibox.connections import get_redis


def executions_key(key: str) -> str:
    """List of ``pid:start`` records, one per execution of the task for ``key``."""
    return f"tests:faults:executions:{key}"


def completions_key(key: str) -> str:
    """Counter of completed executions for ``key``."""
    return f"tests:faults:completions:{key}"


def release_key(key: str) -> str:
    """List the test pushes to, to let a held execution for ``key`` end at once."""
    return f"tests:faults:release:{key}"


@app.task(name="aibox.test.hold", acks_late=True, reject_on_worker_lost=True)
def hold(key: str, seconds: float, held: bool = False) -> str:
    """Record the start, wait ``seconds`` (``held``: or until the test releases it), record
    the completion."""
    client = get_redis()
    client.rpush(executions_key(key), f"{os.getpid()}:{time.time():.3f}")
    if held:
        client.blpop([release_key(key)], timeout=seconds)
    else:
        time.sleep(seconds)
    client.incr(completions_key(key))
    return key
