"""Submit N no-op tasks to one system and time first submit → last result.

``python -m bench.apps.dispatch_client SYSTEM N``; prints ``{"seconds": ...}``. Runs in its
own process so one system's signal handlers never fire for another's tasks. Results are
polled the same way for every system: the pending ones, oldest first, 200 keys per call,
at most 100 calls a second.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Callable

import redis

PORT = int(os.environ["BENCH_REDIS_PORT"])
BATCH = 200


def _poll(client: redis.Redis, keys: list[str], done: Callable[[object], bool]) -> None:
    pending = list(keys)
    while pending:
        head = pending[:BATCH]
        pipe = client.pipeline(transaction=False)
        for key in head:
            if key.startswith("rq:"):
                pipe.hget(key, "status")
            else:
                pipe.get(key)
        replies = pipe.execute()
        still = [k for k, v in zip(head, replies, strict=True) if not done(v)]
        pending = still + pending[BATCH:]
        if still:
            # At most 100 polls a second: the poller must not take the workers' CPU.
            time.sleep(0.01)


def _celery_done(value: object) -> bool:
    # aibox tracks STARTED too: only a final state counts as the result.
    return isinstance(value, bytes) and (b'"SUCCESS"' in value or b'"FAILURE"' in value)


def _celery(module: str, db: int, n: int) -> float:
    mod = __import__(module, fromlist=["noop"])
    client = redis.Redis(port=PORT, db=db)
    ids = [str(uuid.uuid4()) for _ in range(n)]
    start = time.perf_counter()
    for task_id in ids:
        mod.noop.apply_async(task_id=task_id)
    _poll(client, [f"celery-task-meta-{i}" for i in ids], _celery_done)
    return time.perf_counter() - start


def _rq(db: int, n: int) -> float:
    from rq import Queue

    from bench.apps.rq_jobs import noop

    client = redis.Redis(port=PORT, db=db)
    queue = Queue("bench", connection=client)
    start = time.perf_counter()
    ids = [queue.enqueue(noop).id for _ in range(n)]
    _poll(client, [f"rq:job:{i}" for i in ids], lambda v: v in (b"finished", b"failed"))
    return time.perf_counter() - start


def _raw(db: int, n: int) -> float:
    client = redis.Redis(port=PORT, db=db)
    start = time.perf_counter()
    for i in range(n):
        client.lpush("raw:tasks", i)
    for _ in range(n):
        client.brpop(["raw:done"], timeout=60)
    return time.perf_counter() - start


def main() -> None:
    system, n = sys.argv[1], int(sys.argv[2])
    if system == "aibox":
        seconds = _celery("bench.apps.aibox_noop", 1, n)
    elif system.startswith("aibox-"):
        seconds = _celery("bench.apps.aibox_variant", int(os.environ["BENCH_VARIANT_DB"]), n)
    elif system in ("celery", "celery-same"):
        seconds = _celery("bench.apps.bare_celery", int(os.environ.get("BENCH_BARE_DB", "2")), n)
    elif system.startswith("rq"):
        seconds = _rq(int(os.environ["BENCH_RQ_DB"]), n)
    else:
        seconds = _raw(int(os.environ["BENCH_RAW_DB"]), n)
    print(json.dumps({"seconds": seconds, "n": n}))


if __name__ == "__main__":
    main()
