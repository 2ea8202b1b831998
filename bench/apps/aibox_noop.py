"""A no-op task on aibox's own Celery app: ``celery -A bench.apps.aibox_noop worker``.

It runs through everything a real aibox task does around its body — aibox's Celery
configuration, ``ReliableTask``, the lease consumer step, the job-registry signal handlers and
the results backend — so dispatch cost is measured without any pipeline work.
"""

from __future__ import annotations

from aibox import app

__all__ = ["app", "noop"]


@app.task(name="bench.noop")
def noop() -> None:
    """Do nothing (routed to aibox's default queue, ``file_processing``)."""
    return
