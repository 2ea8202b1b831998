"""The aibox Celery app plus a queue and tasks for fault injection (tests only).

Workers for fault tests run ``celery -A tests.faults.app worker -Q aibox-faults``: the real
app (its configuration, signals and lease bootstep) with one more queue, so the session's
ordinary worker never sees these messages. Only worker processes import this module;
tests take the queue from ``tests.faults.queue``.
"""

from __future__ import annotations

from aibox import app
from tests.faults.queue import FAULT_QUEUE

app.conf.task_queues = (*app.conf.task_queues, FAULT_QUEUE)
app.conf.task_routes = {**app.conf.task_routes, "aibox.test.*": {"queue": FAULT_QUEUE.name}}

import tests.faults.tasks  # noqa: E402, F401 - registers the test tasks

__all__ = ["FAULT_QUEUE", "app"]
