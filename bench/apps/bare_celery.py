"""A bare Celery app with aibox's pool, acks and prefetch settings and nothing else.

``celery -A bench.apps.bare_celery worker``. Broker and results on the bench's Redis,
database ``BENCH_BARE_DB`` (2 by default). No signals, no registry, no events, no lease step.
"""

from __future__ import annotations

import os

from celery import Celery

_PORT = os.environ["BENCH_REDIS_PORT"]
_URL = f"redis://127.0.0.1:{_PORT}/{os.environ.get('BENCH_BARE_DB', '2')}"

app = Celery("bare", broker=_URL, backend=_URL)
app.conf.update(
    task_default_queue="bare",
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_transport_options={"visibility_timeout": 30},
    worker_hijack_root_logger=False,
)


@app.task(name="bare.noop")
def noop() -> None:
    """Do nothing."""
    return
