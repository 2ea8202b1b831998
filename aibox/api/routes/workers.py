"""Monitoring: workers, from Celery's remote control (admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from aibox.api.deps import require_admin
from aibox.api.schemas import Envelope
from aibox.api.schemas_monitoring import WorkerList, WorkerPublic
from aibox.celery_app import app as celery_app
from aibox.monitoring.workers import list_workers

router = APIRouter(prefix="/workers", tags=["monitoring"], dependencies=[Depends(require_admin)])


@router.get("", response_model=Envelope[WorkerList])
def workers(
    timeout: Annotated[float, Query(gt=0, le=5, description="seconds to wait for replies")] = 1.0,
) -> Envelope[WorkerList]:
    """Every worker answering within ``timeout``: its queues, state, running and held jobs."""
    found = [WorkerPublic.model_validate(w) for w in list_workers(celery_app, timeout)]
    return Envelope(data=WorkerList(workers=found, count=len(found)))
