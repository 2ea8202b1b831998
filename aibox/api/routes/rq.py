"""The old RQ system's monitoring API, kept for its dashboards and scripts (admin only).

Four paths under ``/api/v1/rq``, answering exactly the old shapes (:mod:`aibox.api.schemas_rq`)
from aibox's registry, broker and workers. Deprecated: every answer carries a ``Deprecation``
header and a ``Link`` to the path that replaces it (:class:`DeprecatedPaths`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aibox.api.deps import RegistryDep, require_admin
from aibox.api.routes.queues import BrokerDep, QueueName
from aibox.api.schemas_rq import (
    AIBOX_STATE,
    RqEnvelope,
    RqJobDetail,
    RqJobList,
    RqQueueCounts,
    RqStatus,
    RqWorkerList,
    rq_counts,
    rq_job,
    rq_job_detail,
    rq_worker,
)
from aibox.celery_app import app as celery_app
from aibox.monitoring.listing import job_of_queue, list_jobs, queue_stats
from aibox.monitoring.workers import list_workers
from aibox.queues import QUEUES

PREFIX = "/rq"
router = APIRouter(
    prefix=PREFIX,
    tags=["rq (deprecated)"],
    dependencies=[Depends(require_admin)],
    deprecated=True,
)


@router.get("/queues/stats", response_model=RqEnvelope[dict[str, RqQueueCounts]])
def rq_stats(broker: BrokerDep, registry: RegistryDep) -> RqEnvelope[dict[str, RqQueueCounts]]:
    """Per queue: queued, started, finished, failed. Now: ``GET /api/v1/queues/stats``."""
    stats = queue_stats(broker, registry, QUEUES)
    return RqEnvelope(data={s.queue_name: rq_counts(s) for s in stats})


@router.get("/queues/{name}/jobs", response_model=RqEnvelope[RqJobList])
def rq_jobs(
    name: QueueName,
    broker: BrokerDep,
    registry: RegistryDep,
    status: RqStatus = "queued",
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> RqEnvelope[RqJobList]:
    """The queue's jobs in one status, as RQ listed them. Now: ``GET /api/v1/queues/{name}/jobs``
    (every state, pages with a cursor)."""
    listed, _ = list_jobs(broker, registry, name, AIBOX_STATE[status], limit)
    jobs = [rq_job(item.job) for item in listed]
    return RqEnvelope(data=RqJobList(jobs=jobs, count=len(jobs)))


@router.get("/queues/{name}/jobs/{job_id}", response_model=RqEnvelope[RqJobDetail])
def rq_job_by_id(name: QueueName, job_id: str, registry: RegistryDep) -> RqEnvelope[RqJobDetail]:
    """One job of the queue, with its error. Now: ``GET /api/v1/queues/{name}/jobs/{job_id}``."""
    return RqEnvelope(data=rq_job_detail(job_of_queue(registry, name, job_id)))


@router.get("/workers", response_model=RqEnvelope[RqWorkerList])
def rq_workers(
    timeout: Annotated[float, Query(gt=0, le=5, description="seconds to wait for replies")] = 1.0,
) -> RqEnvelope[RqWorkerList]:
    """Every worker: its queues, idle or busy, and its current job. Now: ``GET
    /api/v1/workers``."""
    workers = [rq_worker(w) for w in list_workers(celery_app, timeout)]
    return RqEnvelope(data=RqWorkerList(workers=workers))


class DeprecatedPaths:
    """ASGI middleware: every answer under ``/api/v1/rq/`` — errors included — says it is
    deprecated (RFC 9745 ``Deprecation``, as of the day aibox took over) and links the path
    that replaces it (``rel="successor-version"``): the same path without ``/rq``."""

    #: 2026-12-07T00:00:00Z, when aibox replaced the RQ system.
    SINCE = "@1796601600"

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(self.prefix + "/"):
            await self.app(scope, receive, send)
            return
        successor = path.replace(self.prefix, self.prefix.removesuffix(PREFIX), 1)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"deprecation", self.SINCE.encode()))
                headers.append((b"link", f'<{successor}>; rel="successor-version"'.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
