"""aibox's no-op task with one part of its stack switched off, to attribute dispatch cost.

``BENCH_AIBOX_VARIANT`` picks what is off: ``noevents`` (Celery task events: the worker's
received/started/succeeded events and the publisher's sent event), ``noregistry`` (the job
registry's signal handlers), ``nostarted`` (``task_track_started`` and ``result_extended``),
``lean`` (events and STARTED tracking both off: what issue #2's required settings cost).
Diagnostics only: aibox itself always runs with everything on.
"""

from __future__ import annotations

import os

from celery import signals

from aibox import signals as aibox_signals
from bench.apps.aibox_noop import app, noop

__all__ = ["app", "noop"]

VARIANT = os.environ.get("BENCH_AIBOX_VARIANT", "")

if VARIANT == "noevents":
    app.conf.update(worker_send_task_events=False, task_send_sent_event=False)
elif VARIANT == "noregistry":
    signals.before_task_publish.disconnect(aibox_signals._on_publish)
    signals.task_prerun.disconnect(aibox_signals._on_prerun)
    signals.task_success.disconnect(aibox_signals._on_success)
elif VARIANT == "nostarted":
    app.conf.update(task_track_started=False, result_extended=False)
elif VARIANT == "lean":
    # No task events, no STARTED/extended results: what those required settings cost.
    app.conf.update(
        worker_send_task_events=False,
        task_send_sent_event=False,
        task_track_started=False,
        result_extended=False,
    )
elif VARIANT:
    raise SystemExit(f"unknown BENCH_AIBOX_VARIANT {VARIANT!r}")
