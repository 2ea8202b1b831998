"""``aibox migrate-rq``: move the jobs waiting in the old RQ system into aibox."""

from __future__ import annotations

from typing import Annotated

import redis
import typer
from rich.console import Console
from rich.table import Table

from aibox.errors import ConfigurationError
from aibox.migrate_rq import migrate
from aibox.settings import redacted

console = Console()
#: Outcomes that leave a job behind for the operator to look at.
_NEEDS_ATTENTION = {"missing file", "refused", "bad arguments", "file busy"}


def migrate_rq(
    old_redis_url: Annotated[
        str,
        typer.Argument(
            metavar="OLD_REDIS_URL", help="the old system's Redis, e.g. redis://old:6379/0"
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="print the plan; change nothing")
    ] = False,
    remove: Annotated[
        bool, typer.Option("--remove", help="delete the moved jobs from the old registries")
    ] = False,
) -> None:
    """Move the old RQ system's queued, started, deferred and failed jobs into aibox.

    For each job of the three old task functions: the file is registered from its file_path
    (bytes copied; file_id and user_id kept) and the matching aibox task is submitted with
    the same arguments. A second run moves nothing twice. Prints every job and the counts per
    queue and outcome; exits 1 when a job needs attention (missing file, refused, busy).

    WARNING: RQ stores job data pickled, and reading it runs whatever code whoever wrote that
    Redis put there. Run this only against your own old Redis.
    """
    old = redis.Redis.from_url(old_redis_url)
    try:
        report = migrate(old, dry_run=dry_run, remove=remove)
    except (redis.RedisError, ConfigurationError) as exc:
        console.print(f"[red]error:[/] {redacted(old_redis_url)}: {exc}")
        raise typer.Exit(1) from exc
    finally:
        old.close()
    verb = "would move" if dry_run else "moved"
    for job in report.jobs:
        where = f"{job.queue}/{job.state} {job.rq_job_id}"
        target = f"file {job.kwargs.get('file_id')} user {job.kwargs.get('user_id')}"
        if job.outcome == "moved":
            as_job = f" as job {job.aibox_job_id}" if job.aibox_job_id else ""
            console.print(f"{where}: {verb} ({target}){as_job}", soft_wrap=True)
        else:
            detail = f": {job.detail}" if job.detail else ""
            console.print(f"{where}: {job.outcome}{detail}", soft_wrap=True)
    outcomes = sorted({job.outcome for job in report.jobs})
    table = Table("queue", *outcomes, title="dry run" if dry_run else None)
    for queue, counts in report.counts().items():
        table.add_row(queue, *(str(counts[o]) for o in outcomes))
    console.print(table)
    if remove and not dry_run:
        console.print(f"removed {report.removed} moved job(s) from the old registries")
    if any(job.outcome in _NEEDS_ATTENTION for job in report.jobs):
        raise typer.Exit(1)
