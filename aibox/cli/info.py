"""``aibox info [QUEUE]``: jobs per queue and state, and the workers consuming each queue.

The numbers come from the same functions as the monitoring API (``GET /api/v1/queues/stats``,
``GET /api/v1/workers``): queued from the broker lists, the other states from the job registry,
workers from ``celery inspect active_queues`` (+ ``active``, ``stats``); with ``--users``, each
user's queued jobs from ``GET /api/v1/queues/users``'s function.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aibox.celery_app import app as celery_app
from aibox.errors import AiboxError
from aibox.monitoring.broker import open_broker
from aibox.monitoring.listing import QueueStats, check_queue, queue_stats
from aibox.monitoring.users import UserQueueStats, user_stats
from aibox.monitoring.workers import WorkerInfo, list_workers
from aibox.queues import QUEUES
from aibox.services import job_registry

console = Console()


def _queues_table(stats: list[QueueStats], workers: list[WorkerInfo]) -> Table:
    table = Table(title="queues", title_justify="left")
    table.add_column("queue", no_wrap=True, min_width=max(len(s.queue_name) for s in stats))
    for state in ("queued", "started", "finished", "failed", "revoked"):
        table.add_column(state, justify="right")
    table.add_column("workers", overflow="fold")
    for entry in stats:
        consumers = [w.name for w in workers if entry.queue_name in w.queues]
        table.add_row(
            entry.queue_name,
            str(entry.queued),
            str(entry.started),
            str(entry.finished),
            str(entry.failed),
            str(entry.revoked),
            ", ".join(consumers) if consumers else "[red]none[/]",
        )
    return table


def _workers_table(workers: list[WorkerInfo]) -> Table:
    table = Table("worker", "state", "queues", "running", "reserved", "pool", title="workers")
    table.title_justify = "left"
    for worker in workers:
        table.add_row(
            worker.name,
            worker.state,
            ", ".join(worker.queues),
            str(len(worker.current_jobs)),
            str(len(worker.reserved_jobs)),
            str(worker.concurrency or "?"),
        )
    return table


def _users_table(users: list[UserQueueStats]) -> Table:
    table = Table("user", "queue", "queued", "oldest waits", title="queued per user")
    table.title_justify = "left"
    for entry in users:
        table.add_row(entry.user_id, entry.queue, str(entry.queued), _age(entry.oldest_wait_s))
    if not users:
        table.add_row("[dim]nobody has jobs queued[/]", "", "", "")
    return table


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def info(
    queue: Annotated[str | None, typer.Argument(help="one queue; all of them if absent")] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for worker replies")] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the numbers as JSON")] = False,
    users: Annotated[
        bool, typer.Option("--users", help="also each user's queued jobs and oldest wait")
    ] = False,
) -> None:
    """Jobs per queue and state, and the workers consuming each queue (like ``rq info``)."""
    try:
        names = (check_queue(queue),) if queue else QUEUES
    except AiboxError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    with open_broker(celery_app) as broker:
        stats = queue_stats(broker, job_registry(), names)
    per_user = user_stats(job_registry(), names) if users else []
    workers = list_workers(celery_app, timeout)
    if as_json:
        data: dict[str, object] = {
            "queues": {s.queue_name: {**asdict(s), "total": s.total} for s in stats},
            "workers": {w.name: {"state": w.state, "queues": w.queues} for w in workers},
        }
        if users:
            data["users"] = [asdict(u) for u in per_user]
        typer.echo(json.dumps(data, indent=2))
        return
    console.print(_queues_table(stats, workers))
    if users:
        console.print(_users_table(per_user))
    shown = [w for w in workers if set(w.queues) & set(names)]
    if shown:
        console.print(_workers_table(shown))
    else:
        console.print("[red]no worker consumes these queues[/]")
