"""The Celery application, configured from ``celeryconfig`` (itself built from the settings)."""

from __future__ import annotations

from celery import Celery

from aibox.fairness import FairRefill
from aibox.lease import LeaseRenewal

app = Celery("aibox", include=["aibox.tasks"], task_cls="aibox.connection_loss:ReliableTask")
app.config_from_object("celeryconfig")
app.conf.worker_consumer = "aibox.connection_loss:Consumer"
app.steps["consumer"].add(LeaseRenewal)
app.steps["consumer"].add(FairRefill)

# Registry writers, logging setup and warm-up hooks; connecting handlers does no I/O.
import aibox.signals  # noqa: E402, F401
