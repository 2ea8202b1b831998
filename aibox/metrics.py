"""Prometheus metrics: queue lengths, jobs per state, and task durations kept in Redis.

Workers are many processes on many machines and the API may run several too, so nothing is
counted in process memory: each worker process adds every task's runtime to a histogram in
Redis (one Lua script: the bucket the runtime falls in, the count and the sum), and the API's
collector reads those hashes, and the queue and registry counts, at every scrape. Any API
process therefore serves the same totals.

Buckets are stored non-cumulatively (one HINCRBY per observation) and summed up when read.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

import redis
from celery import Celery
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

from aibox import keys
from aibox.connections import get_redis
from aibox.monitoring.broker import open_broker
from aibox.monitoring.listing import queue_stats
from aibox.monitoring.users import user_stats
from aibox.queues import QUEUES
from aibox.store.registry import JOB_STATES, JobRegistry

logger = logging.getLogger(__name__)

#: Upper bounds (seconds) of the duration buckets: from quick re-embeds to the 35-min limit.
BUCKETS: tuple[float, ...] = (
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
    1200.0,
    2400.0,
    3600.0,
)
_INF = "+Inf"


def _bucket_field(seconds: float) -> str:
    for bound in BUCKETS:
        if seconds <= bound:
            return f"le:{bound}"
    return f"le:{_INF}"


@dataclass(frozen=True)
class Histogram:
    """One task's durations: cumulative (upper bound, count) pairs ending at +Inf, sum, count."""

    buckets: list[tuple[str, int]]
    sum: float
    count: int


# KEYS: the task set, the task's histogram; ARGV: task name, bucket field, seconds.
_OBSERVE = """
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('HINCRBY', KEYS[2], 'count', 1)
redis.call('HINCRBYFLOAT', KEYS[2], 'sum', ARGV[3])
return 1
"""


class TaskDurations:
    """Task runtimes as Redis histograms, shared by every worker and API process."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._observe = client.register_script(_OBSERVE)

    def observe(self, task: str, seconds: float) -> None:
        """Add one run of ``task`` that took ``seconds`` (one round trip, atomic)."""
        self._observe(
            keys=[keys.metrics_tasks(), keys.task_durations(task)],
            args=[task, _bucket_field(seconds), repr(seconds)],
        )

    def read(self) -> dict[str, Histogram]:
        """Every task's histogram, by task name."""
        tasks = sorted(cast(set[str], self.client.smembers(keys.metrics_tasks())))
        pipe = self.client.pipeline(transaction=False)
        for task in tasks:
            pipe.hgetall(keys.task_durations(task))
        return {
            task: _histogram(data)
            for task, data in zip(tasks, cast(list[dict[str, str]], pipe.execute()), strict=True)
            if data
        }


def _histogram(data: dict[str, str]) -> Histogram:
    running = 0
    buckets = []
    for bound in BUCKETS:
        running += int(data.get(f"le:{bound}", 0))
        buckets.append((str(bound), running))
    count = int(data.get("count", 0))
    buckets.append((_INF, count))
    return Histogram(buckets=buckets, sum=float(data.get("sum", 0.0)), count=count)


@lru_cache(maxsize=1)
def task_durations() -> TaskDurations:
    """The task duration histograms on the data Redis."""
    return TaskDurations(get_redis())


class TaskTimer:
    """Measures each task run in this process, from ``task_prerun`` to ``task_postrun``."""

    def __init__(self) -> None:
        self._started: dict[str, float] = {}

    def start(self, task_id: str) -> None:
        """A run of ``task_id`` begins."""
        self._started[task_id] = time.perf_counter()

    def stop(self, task: str, task_id: str) -> None:
        """The run ended: record its duration; a Redis error is logged, never raised."""
        began = self._started.pop(task_id, None)
        if began is None:
            return
        try:
            task_durations().observe(task, time.perf_counter() - began)
        except RedisError as exc:
            logger.warning("could not record the duration of %s %s: %s", task, task_id, exc)


task_timer = TaskTimer()


class AiboxCollector(Collector):
    """Reads the metrics from Redis at each scrape (``prometheus_client`` custom collector)."""

    def __init__(self, app: Celery, registry: JobRegistry, durations: TaskDurations) -> None:
        self.app = app
        self.registry = registry
        self.durations = durations

    def collect(self) -> Iterator[Metric]:
        """The queue, job and duration families."""
        with open_broker(self.app) as broker:
            stats = queue_stats(broker, self.registry, QUEUES)
        length = GaugeMetricFamily(
            "aibox_queue_length", "Messages waiting in the broker, per queue.", labels=["queue"]
        )
        jobs = GaugeMetricFamily(
            "aibox_jobs",
            "Jobs per queue and state: queued from the broker, the others from the job registry.",
            labels=["queue", "state"],
        )
        for entry in stats:
            length.add_metric([entry.queue_name], entry.queued)
            for state in JOB_STATES:
                jobs.add_metric([entry.queue_name, state], getattr(entry, state))
        yield length
        yield jobs
        # Per user, only users with queued jobs: a user whose oldest job's age keeps growing
        # while the queue's jobs run is starving.
        queued = GaugeMetricFamily(
            "aibox_user_queued_jobs",
            "Jobs a user has queued (job registry), per queue; users with none are absent.",
            labels=["queue", "user"],
        )
        oldest = GaugeMetricFamily(
            "aibox_user_oldest_queued_seconds",
            "How long a user's longest-waiting queued job has waited, per queue.",
            labels=["queue", "user"],
        )
        for user in user_stats(self.registry, QUEUES):
            queued.add_metric([user.queue, user.user_id], user.queued)
            oldest.add_metric([user.queue, user.user_id], user.oldest_wait_s)
        yield queued
        yield oldest
        durations = HistogramMetricFamily(
            "aibox_task_duration_seconds",
            "Task run time, from task_prerun to task_postrun, over every worker.",
            labels=["task"],
        )
        for task, histogram in self.durations.read().items():
            total = histogram.sum if math.isfinite(histogram.sum) else 0.0
            durations.add_metric([task], histogram.buckets, total)
        yield durations
