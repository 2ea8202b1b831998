"""``aibox submit|status|retry-failed``: queue files and follow jobs, straight on Redis and Celery.

``submit`` stores a file exactly as an upload does (staged, hashed, deduplicated by the
``AIBOX_DUPLICATE_POLICY``, committed) and queues it with ``aibox.submit.submit_job``; with
``--wait`` it follows the ``processing:status:{file_id}`` records with one progress bar per file.
"""

from __future__ import annotations

import json
import mimetypes
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from aibox.cli.users import UserOption, acting_user
from aibox.errors import AiboxError, NotFoundError
from aibox.monitoring.jobs import retry_failed as retry_queue_failures
from aibox.monitoring.listing import check_queue
from aibox.pipeline.parsers import file_type_for
from aibox.services import file_store, job_registry, status_store
from aibox.settings import get_settings
from aibox.store.files import FileRecord
from aibox.store.status import FINAL_STATUSES, settled_status
from aibox.submit import submit_job

console = Console()
_POLL_S = 0.25


@dataclass(frozen=True)
class Submitted:
    """One file handed to aibox: its record and the job that processes (or processed) it."""

    path: Path
    record: FileRecord
    job_id: str | None
    reused: bool


def store_and_queue(path: Path, user_id: str) -> Submitted:
    """Store ``path``'s bytes for ``user_id`` as an upload would, and queue its processing."""
    settings = get_settings()
    content_type = mimetypes.guess_type(path.name)[0]
    file_type = file_type_for(path.name, content_type)
    files = file_store()
    staged = files.stage(user_id, settings.max_upload_bytes)
    try:
        with path.open("rb") as source:
            while piece := source.read(1 << 20):
                staged.write(piece)
        stored = files.commit(
            staged,
            filename=path.name,
            file_type=file_type,
            content_type=content_type,
            duplicates=settings.duplicate_policy,
        )
    except BaseException:
        staged.discard()
        raise
    if stored.reused:
        return Submitted(path, stored.record, stored.record.job_id, reused=True)
    return Submitted(
        path, stored.record, submit_job(stored.record, "full", force_rechunk=True), False
    )


def current_status(file_id: str) -> dict[str, Any] | None:
    """The file's status record, or one rebuilt from its file record once that expired."""
    status = status_store().get(file_id)
    if status is not None:
        return status
    record = file_store().get(file_id)
    return settled_status(record) if record is not None else None


def follow(submitted: list[Submitted], timeout_s: float) -> dict[str, dict[str, Any]]:
    """Progress bars until every file completed or failed (or ``timeout_s``); final statuses."""
    final: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout_s
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[stage]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        bars = {
            s.record.file_id: progress.add_task(s.record.filename, total=100, stage="queued")
            for s in submitted
        }
        while len(final) < len(bars) and time.monotonic() < deadline:
            for file_id, bar in bars.items():
                if file_id in final:
                    continue
                status = current_status(file_id)
                if status is None:
                    final[file_id] = {"status": "failed", "error": "the file was deleted"}
                    continue
                label = str(status.get("status"))
                if status.get("stage") not in (None, label):
                    label = f"{label}: {status['stage']}"
                progress.update(bar, completed=int(status.get("progress") or 0), stage=label)
                if status.get("status") in FINAL_STATUSES:
                    final[file_id] = status
            time.sleep(_POLL_S)
    return final


def _error_of(status: dict[str, Any]) -> str:
    return str(status.get("error") or status.get("message") or "failed")


def submit(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
    user: UserOption = None,
    wait: Annotated[bool, typer.Option(help="show progress until every file is done")] = False,
    timeout: Annotated[float, typer.Option(help="seconds --wait waits at most")] = 3600.0,
) -> None:
    """Store files and queue their processing, as USER (who will own them); prints each
    file id and job id."""
    owner = acting_user(user)
    submitted: list[Submitted] = []
    failed = False
    for path in files:
        try:
            item = store_and_queue(path, owner)
        except AiboxError as exc:
            console.print(f"[red]error:[/] {path}: {exc}")
            failed = True
            continue
        submitted.append(item)
        note = " (same content as before: reused, nothing queued)" if item.reused else ""
        console.print(f"{path}: file {item.record.file_id} job {item.job_id}{note}", soft_wrap=True)
    if wait and submitted:
        final = follow(submitted, timeout)
        for item in submitted:
            status = final.get(item.record.file_id)
            if status is None:
                console.print(f"[yellow]timeout:[/] {item.path} is still being processed")
                failed = True
            elif status.get("status") != "completed":
                console.print(f"[red]failed:[/] {item.path}: {_error_of(status)}", soft_wrap=True)
                failed = True
    if failed:
        raise typer.Exit(1)


def status(
    identifier: Annotated[str, typer.Argument(metavar="FILE_ID|JOB_ID")],
    as_json: Annotated[bool, typer.Option("--json", help="print the raw records")] = False,
) -> None:
    """Show a file's processing status, or a job's registry record."""
    record = file_store().get(identifier)
    if record is not None:
        data: dict[str, Any] = {"file": record.model_dump(), "status": current_status(identifier)}
    else:
        job = job_registry().get(identifier)
        if job is None:
            console.print(f"[red]error:[/] {NotFoundError(f'no file or job {identifier}')}")
            raise typer.Exit(1)
        data = {"job": job.model_dump(exclude={"traceback"})}
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    for title, values in data.items():
        console.print(_table(title, values or {}))


def _table(title: str, values: dict[str, Any]) -> Table:
    table = Table("field", "value", title=title, title_justify="left")
    for key, value in values.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        if value not in (None, "", [], {}):
            table.add_row(key, str(value))
    return table


def retry_failed(queue: str) -> None:
    """Queue every failed job of QUEUE again (each under its own id)."""
    try:
        outcome = retry_queue_failures(check_queue(queue))
    except AiboxError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    for job_id in outcome.retried:
        console.print(f"retried {job_id}")
    for job_id, reason in outcome.skipped.items():
        console.print(f"[yellow]skipped[/] {job_id}: {reason}")
    console.print(f"{len(outcome.retried)} failed jobs of {queue} queued again")
