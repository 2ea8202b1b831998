"""Monitoring: queues, their counts and jobs, bulk retry of failures (admin only)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from aibox.api.deps import RegistryDep, SettingsDep, require_admin
from aibox.api.schemas import Envelope
from aibox.api.schemas_monitoring import (
    BulkRetryPublic,
    JobDetail,
    JobPage,
    QueueList,
    QueuesStats,
    QueueStatsPublic,
    UserQueuedPublic,
    UsersQueued,
    job_detail,
    job_summary,
    stats_public,
)
from aibox.celery_app import app as celery_app
from aibox.monitoring.broker import Broker, open_broker
from aibox.monitoring.jobs import retry_failed
from aibox.monitoring.listing import check_queue, job_of_queue, list_jobs, queue_stats
from aibox.monitoring.users import user_stats
from aibox.queues import QUEUES
from aibox.store.registry import JobState

router = APIRouter(prefix="/queues", tags=["monitoring"], dependencies=[Depends(require_admin)])


def get_broker() -> Iterator[Broker]:
    """The broker's queue lists, on a pooled connection."""
    with open_broker(celery_app) as broker:
        yield broker


BrokerDep = Annotated[Broker, Depends(get_broker)]
QueueName = Annotated[str, Depends(check_queue)]


@router.get("", response_model=Envelope[QueueList])
def list_queues(broker: BrokerDep) -> Envelope[QueueList]:
    """The queues, with how many messages each holds."""
    lengths = broker.lengths(QUEUES)
    return Envelope(data=QueueList(queues=list(QUEUES), count=len(QUEUES), lengths=lengths))


@router.get("/stats", response_model=Envelope[QueuesStats])
def all_stats(broker: BrokerDep, registry: RegistryDep) -> Envelope[QueuesStats]:
    """Per queue: queued (broker), started, finished, failed, revoked (registry), total."""
    stats = queue_stats(broker, registry, QUEUES)
    return Envelope(data=QueuesStats(queues={s.queue_name: stats_public(s) for s in stats}))


@router.get("/users", response_model=Envelope[UsersQueued])
def queued_per_user(registry: RegistryDep, settings: SettingsDep) -> Envelope[UsersQueued]:
    """Per user and queue: queued jobs and how long the oldest has waited (longest first)."""
    found = [UserQueuedPublic(**asdict(s)) for s in user_stats(registry, QUEUES)]
    limit = settings.max_queued_jobs_per_user
    return Envelope(data=UsersQueued(users=found, count=len(found), limit=limit))


@router.get("/{name}/stats", response_model=Envelope[QueueStatsPublic])
def one_queue_stats(
    name: QueueName, broker: BrokerDep, registry: RegistryDep
) -> Envelope[QueueStatsPublic]:
    """One queue's counts."""
    return Envelope(data=stats_public(queue_stats(broker, registry, (name,))[0]))


@router.get("/{name}/jobs", response_model=Envelope[JobPage])
def queue_jobs(
    name: QueueName,
    broker: BrokerDep,
    registry: RegistryDep,
    status: Annotated[
        JobState | None, Query(description="one state; all, in order, if absent")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    cursor: Annotated[str | None, Query(description="``next_cursor`` of the page before")] = None,
) -> Envelope[JobPage]:
    """A page of the queue's jobs: queued in the order workers take them, others newest first."""
    listed, next_cursor = list_jobs(broker, registry, name, status, limit, cursor)
    jobs = [job_summary(item) for item in listed]
    return Envelope(data=JobPage(jobs=jobs, count=len(jobs), next_cursor=next_cursor))


@router.get("/{name}/jobs/{job_id}", response_model=Envelope[JobDetail])
def queue_job(name: QueueName, job_id: str, registry: RegistryDep) -> Envelope[JobDetail]:
    """One job of the queue, with its error, traceback and arguments."""
    return Envelope(data=job_detail(job_of_queue(registry, name, job_id)))


@router.post("/{name}/failed/retry", response_model=Envelope[BulkRetryPublic])
def retry_queue_failures(name: QueueName) -> Envelope[BulkRetryPublic]:
    """Queue every failed job of the queue again (each under its own id)."""
    outcome = retry_failed(name)
    data = BulkRetryPublic(
        queue=name, retried=outcome.retried, count=len(outcome.retried), skipped=outcome.skipped
    )
    return Envelope(message=f"{len(outcome.retried)} failed jobs queued again", data=data)
