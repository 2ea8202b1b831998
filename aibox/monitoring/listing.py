"""Per-queue counts and paginated job listings: queued from the broker, the rest from the registry.

``queued`` is what the broker lists hold (a message a worker has already fetched is the
worker's: see its ``reserved`` jobs); ``started``, ``finished``, ``failed`` and ``revoked``
are the registry's state sets. Listings walk one state after another (every state when no
status is given) and hand out an opaque cursor naming the state and the position in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

from aibox.errors import InvalidCursorError, NotFoundError
from aibox.monitoring.broker import Broker, Position, QueuedMessage
from aibox.monitoring.cursor import decode_cursor, encode_cursor, require
from aibox.queues import QUEUES
from aibox.store.registry import JOB_STATES, JobRecord, JobRegistry, JobState

_QUEUED_POSITION: dict[str, type | tuple[type, ...]] = {"b": int, "o": int, "j": str}
_REGISTRY_POSITION: dict[str, type | tuple[type, ...]] = {"t": (int, float), "j": str}
#: A queue's lists: kombu's priority lists (at most 10) and one per waiting user; offsets fit
#: Redis.
_MAX_BUCKETS = 2**31
_MAX_OFFSET = 2**53


@dataclass(frozen=True)
class QueueStats:
    """How many jobs a queue has in each state."""

    queue_name: str
    queued: int
    started: int
    finished: int
    failed: int
    revoked: int

    @property
    def total(self) -> int:
        """Every job the queue holds or has on record."""
        return self.queued + self.started + self.finished + self.failed + self.revoked


@dataclass(frozen=True)
class ListedJob:
    """A job in a listing; ``priority`` is the queued message's own, when it is queued."""

    job: JobRecord
    priority: int | None = None


def check_queue(name: str) -> str:
    """``name`` if it is one of aibox's queues; NotFoundError otherwise."""
    if name not in QUEUES:
        raise NotFoundError(f"queue {name} not found; the queues are {', '.join(QUEUES)}")
    return name


def job_of_queue(registry: JobRegistry, queue: str, job_id: str) -> JobRecord:
    """The registry record of ``job_id`` if it belongs to ``queue``; NotFoundError otherwise."""
    job = registry.get(job_id)
    if job is None or job.queue != queue:
        raise NotFoundError(f"job {job_id} not found in queue {queue}")
    return job


def queue_stats(broker: Broker, registry: JobRegistry, queues: tuple[str, ...]) -> list[QueueStats]:
    """Counts per state for each of ``queues``."""
    lengths = broker.lengths(queues)
    return [
        QueueStats(queue_name=queue, **{**registry.counts(queue), "queued": lengths[queue]})
        for queue in queues
    ]


def list_jobs(
    broker: Broker,
    registry: JobRegistry,
    queue: str,
    status: JobState | None,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[ListedJob], str | None]:
    """A page of ``queue``'s jobs in ``status`` (every state, in order, if None) and the next
    page's cursor (None at the end)."""
    states = JOB_STATES if status is None else (status,)
    index, position = 0, None
    if cursor is not None:
        state, position = _read_cursor(cursor, queue)
        if state not in states:
            raise InvalidCursorError("the cursor belongs to a listing of another status")
        index = states.index(state)
    found: list[ListedJob] = []
    while index < len(states) and len(found) < limit:
        page, position = _page(broker, registry, queue, states[index], limit - len(found), position)
        found.extend(page)
        if position is None:
            index += 1
    if index >= len(states):
        return found, None
    return found, encode_cursor({"q": queue, "s": states[index], "p": position})


def _page(
    broker: Broker,
    registry: JobRegistry,
    queue: str,
    state: JobState,
    limit: int,
    position: dict[str, Any] | None,
) -> tuple[list[ListedJob], dict[str, Any] | None]:
    if state == "queued":
        start = Position(position["b"], position["o"], position["j"]) if position else None
        messages, stop = broker.page(queue, limit, start)
        records = registry.get_many(m.job_id for m in messages)
        listed = [ListedJob(_queued_record(queue, m, records), m.priority) for m in messages]
        if stop is None:
            return listed, None
        return listed, {"b": stop.bucket, "o": stop.offset, "j": stop.last_job_id}
    after = (float(position["t"]), str(position["j"])) if position else None
    rows = registry.page(queue, state, limit=limit, after=after)
    records = registry.get_many(job_id for job_id, _ in rows)
    listed = [ListedJob(records[job_id]) for job_id, _ in rows if job_id in records]
    if len(rows) < limit:
        return listed, None
    return listed, {"t": rows[-1][1], "j": rows[-1][0]}


def _queued_record(queue: str, message: QueuedMessage, records: dict[str, JobRecord]) -> JobRecord:
    """The registry's record of a queued message, or one built from the message itself."""
    record = records.get(message.job_id)
    if record is not None:
        return record
    return JobRecord(
        job_id=message.job_id,
        task=message.task or "unknown",
        queue=queue,
        state="queued",
        file_id=message.kwargs.get("file_id"),
        user_id=message.kwargs.get("user_id"),
        args=message.args,
        kwargs=message.kwargs,
    )


def _read_cursor(token: str, queue: str) -> tuple[JobState, dict[str, Any] | None]:
    fields = decode_cursor(token, {"q": str, "s": str, "p": (dict, type(None))})
    state, position = fields["s"], fields["p"]
    if fields["q"] != queue or state not in JOB_STATES:
        raise InvalidCursorError("the cursor belongs to another listing")
    if position is not None:
        require(position, _QUEUED_POSITION if state == "queued" else _REGISTRY_POSITION)
        _check_bounds(state, position)
    return cast(JobState, state), position


def _check_bounds(state: str, position: dict[str, Any]) -> None:
    """Refuse positions no listing hands out (Redis would reject them, or Python index them)."""
    if state == "queued":
        if not (0 <= position["b"] < _MAX_BUCKETS and 0 <= position["o"] < _MAX_OFFSET):
            raise InvalidCursorError("the cursor is not valid")
        return
    try:
        score = float(position["t"])
    except OverflowError as exc:
        raise InvalidCursorError("the cursor is not valid") from exc
    if not math.isfinite(score):
        raise InvalidCursorError("the cursor is not valid")
