"""Flower for aibox: Celery's ``flower`` command with ``/metrics`` behind the same basic auth.

Flower serves its Prometheus ``/metrics`` (worker names, task names and counts) to anyone,
even with ``--basic-auth`` on; aibox keeps every Flower page behind authentication, so the
metrics handler gets Flower's own ``authenticated`` check. Run as
``python -m aibox.flower [celery flower options]``; ``aibox flower`` does that.
"""

from __future__ import annotations

import sys

from celery.bin.celery import main as celery_main
from flower.views.monitor import Metrics
from tornado import web


def protect_metrics() -> None:
    """Require Flower's authentication on ``/metrics`` (idempotent)."""
    if not getattr(Metrics.get, "_aibox_protected", False):
        protected = web.authenticated(Metrics.get)
        protected._aibox_protected = True  # type: ignore[attr-defined]
        Metrics.get = protected


def main(argv: list[str]) -> None:
    """Run ``celery -A aibox flower`` with ``argv`` as its options."""
    protect_metrics()
    sys.argv = ["celery", "-A", "aibox", "flower", *argv]
    celery_main()


if __name__ == "__main__":
    main(sys.argv[1:])
