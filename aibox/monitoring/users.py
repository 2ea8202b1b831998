"""Queued work per user: who waits, with how many jobs, for how long.

From the job registry's per-user queued sets (kept by its transition scripts), so the numbers
agree with the registry's ``queued`` state and the per-user limit. With fair scheduling a
user's oldest queued job should never wait much longer than the jobs running ahead of it; an
age that keeps growing while others' jobs run is a starving user.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from aibox.store.registry import JobRegistry


@dataclass(frozen=True)
class UserQueueStats:
    """One user's queued jobs on one queue."""

    user_id: str
    queue: str
    queued: int
    oldest_queued_at: float  # epoch seconds
    oldest_wait_s: float  # how long the longest-waiting of them has been queued


def user_stats(
    registry: JobRegistry, queues: Iterable[str], *, now: float | None = None
) -> list[UserQueueStats]:
    """Every user with queued jobs, per queue; the longest-waiting first."""
    now = time.time() if now is None else now
    found = [
        UserQueueStats(
            user_id=entry.user_id,
            queue=entry.queue,
            queued=entry.queued,
            oldest_queued_at=entry.oldest_at,
            oldest_wait_s=max(0.0, now - entry.oldest_at),
        )
        for queue in queues
        for entry in registry.queued_by_user(queue)
    ]
    return sorted(found, key=lambda s: (-s.oldest_wait_s, s.queue, s.user_id))
