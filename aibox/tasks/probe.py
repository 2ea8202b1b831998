"""``aibox.check.probe``: a no-op that proves a queue's consumers run what they take.

``aibox check`` publishes one on each queue (explicit ``queue=``: the probe has no route of its
own) with an expiry, and waits for the key it writes. It is left out of the job registry and
the metrics (``aibox.signals``), and it stores no result.
"""

from __future__ import annotations

from aibox import keys
from aibox.celery_app import app
from aibox.connections import get_redis
from aibox.queues import PROBE_TASK

PROBE_TTL_S = 300


@app.task(bind=True, name=PROBE_TASK, ignore_result=True, acks_late=False)
def probe(self: object, probe_id: str) -> None:
    """Write who ran this probe, for a short while."""
    hostname = getattr(getattr(self, "request", None), "hostname", None) or "unknown"
    get_redis().set(keys.check_probe(probe_id), hostname, ex=PROBE_TTL_S)
