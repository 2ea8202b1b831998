"""Prometheus metrics at ``/metrics``: for an admin's token or the scrape token.

Prometheus sends a fixed bearer token (``authorization: {credentials: …}`` in its scrape
config); a JWT expires within the hour, so ``AIBOX_METRICS_TOKEN`` is accepted as well. With
that setting empty, only an admin's JWT is.
"""

from __future__ import annotations

import secrets
from functools import lru_cache

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from aibox.api.deps import (
    BearerToken,
    SettingsDep,
    get_current_user,
    require_admin,
)
from aibox.celery_app import app as celery_app
from aibox.metrics import AiboxCollector, task_durations
from aibox.services import job_registry

router = APIRouter(tags=["monitoring"])


@lru_cache(maxsize=1)
def metrics_registry() -> CollectorRegistry:
    """This process's Prometheus registry, holding only aibox's collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(AiboxCollector(celery_app, job_registry(), task_durations()))
    return registry


def require_scraper(token: BearerToken, settings: SettingsDep) -> None:
    """Accept the configured scrape token, else demand an admin's JWT (401/403)."""
    expected = settings.metrics_token.get_secret_value()
    if expected and token and secrets.compare_digest(token.encode(), expected.encode()):
        return
    require_admin(get_current_user(token, settings))


@router.get(
    "/metrics",
    dependencies=[Depends(require_scraper)],
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
def metrics() -> Response:
    """Queue lengths, jobs per queue and state, and task duration histograms."""
    return Response(generate_latest(metrics_registry()), media_type=CONTENT_TYPE_LATEST)
