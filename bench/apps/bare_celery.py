"""A bare Celery app: aibox's pool, acks and prefetch settings, and none of aibox's code.

``celery -A bench.apps.bare_celery worker``. Broker and results on the bench's Redis,
database ``BENCH_BARE_DB`` (2 by default). No signals, no registry, no lease step.

With ``BENCH_BARE_SETTINGS=aibox`` it also takes every other Celery setting aibox runs with
(``celeryconfig.py``): task events, STARTED tracking, extended results, time limits, result
expiry. That is the "same settings" comparison point: what is left between it and aibox is
aibox's own code (registry, signals, metrics, lease step, ReliableTask). Without it, task
events and STARTED tracking are off, Celery's defaults.
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

#: The Celery settings aibox's issue #2 requires or its reliability design chose, beyond
#: pool, acks and prefetch; copied from aibox's own configuration module.
AIBOX_SETTINGS = (
    "worker_send_task_events",
    "task_send_sent_event",
    "task_track_started",
    "result_extended",
    "task_soft_time_limit",
    "task_time_limit",
    "worker_cancel_long_running_tasks_on_connection_loss",
    "result_expires",
    "task_remote_tracebacks",
    "broker_transport_options",
)
if os.environ.get("BENCH_BARE_SETTINGS") == "aibox":
    import celeryconfig

    app.conf.update({key: getattr(celeryconfig, key) for key in AIBOX_SETTINGS})


@app.task(name="bare.noop")
def noop() -> None:
    """Do nothing."""
    return
