"""`aibox migrate-rq`: jobs enqueued with real RQ under the old function names and arguments,
in a database of the embedded server, move into aibox; each completes once; a second run
moves nothing; --remove empties the old registries of what was moved."""

from __future__ import annotations

import re
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from rq import Queue
from rq.job import Job
from rq.registry import DeferredJobRegistry, FailedJobRegistry, StartedJobRegistry
from typer.testing import CliRunner

from aibox.cli import cli
from aibox.services import file_store, job_registry
from tests.support import wait_for

OLD_DB = 2  # db 0 holds aibox's data and db 1 its broker, in the tests
MODULE = "workers.tasks"  # wherever the old functions lived: matched by name
DATA = Path(__file__).resolve().parent / "data"
ENDED = {"finished", "failed"}


@pytest.fixture
def old(redis_client: Any, redis_server: int) -> Iterator[tuple[redis.Redis, str]]:
    """The old system's Redis: a database of the embedded server, empty before and after."""
    client = redis.Redis(port=redis_server, db=OLD_DB)
    client.flushdb()
    yield client, f"redis://127.0.0.1:{redis_server}/{OLD_DB}"
    client.flushdb()
    client.close()


def enqueue(client: redis.Redis, queue: str, state: str, function: str, **kwargs: Any) -> str:
    """An RQ job as the old system left it: queued, or in one of its queue's registries."""
    rq_queue = Queue(queue, connection=client)
    if state == "queued":
        return str(rq_queue.enqueue(f"{MODULE}.{function}", kwargs=kwargs).id)
    job = Job.create(f"{MODULE}.{function}", kwargs=kwargs, connection=client, origin=queue)
    job.save()
    if state == "started":  # as a running RQ 2 worker records it: job id and execution id
        registry = StartedJobRegistry(queue=rq_queue)
        client.zadd(registry.key, {f"{job.id}:{uuid.uuid4().hex}": time.time() + 600})
    elif state == "deferred":
        DeferredJobRegistry(queue=rq_queue).add(job, ttl=600)
    else:
        FailedJobRegistry(queue=rq_queue).add(job, ttl=600, exc_string="Traceback: boom")
    return str(job.id)


def old_ids(client: redis.Redis) -> set[str]:
    """Every job id still in the old queues and registries."""
    found: set[str] = set()
    for name in ("file_processing", "vectorization", "kg_extraction"):
        queue = Queue(name, connection=client)
        found |= set(queue.get_job_ids())
        for registry in (StartedJobRegistry, DeferredJobRegistry, FailedJobRegistry):
            found |= set(registry(queue=queue).get_job_ids())
    return found


def test_old_jobs_move_once_and_complete_once(
    old: tuple[redis.Redis, str], worker: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aibox.cli import migrate

    monkeypatch.setattr(migrate.console, "width", 200)
    client, url = old
    old_storage = tmp_path / "old-storage"
    old_storage.mkdir()
    files = {
        "alice-notes.md": (DATA / "english.md").read_bytes(),
        "alice-manual.txt": (DATA / "traditional.txt").read_bytes(),
        "bob-tutorial.pdf": (DATA / "docs" / "python-tutorial-appetite.pdf").read_bytes(),
        "bob-later.md": b"# Later\n\nGrace Hopper worked at Harvard University.\n",
    }
    for name, content in files.items():
        (old_storage / name).write_bytes(content)

    def args(name: str, user: str, **extra: Any) -> dict[str, Any]:
        return {
            "file_id": secrets.token_hex(16),
            "file_path": str(old_storage / name),
            "file_type": name.rsplit(".", 1)[1],
            "user_id": user,
            **extra,
        }

    chunking = "process_file_chunking_and_vectorization_task"
    planned = {
        enqueue(client, "file_processing", "queued", chunking, **args("alice-notes.md", "alice")): (
            "alice-notes.md",
            "alice",
        ),
        enqueue(
            client,
            "vectorization",
            "started",
            "process_vectorization_only_task",
            **args("alice-manual.txt", "alice", force_rechunk=True),
        ): ("alice-manual.txt", "alice"),
        enqueue(
            client,
            "kg_extraction",
            "failed",
            "process_kg_extraction_only_task",
            **args("bob-tutorial.pdf", "bob", force_rechunk=True),
        ): ("bob-tutorial.pdf", "bob"),
        enqueue(client, "file_processing", "deferred", chunking, **args("bob-later.md", "bob")): (
            "bob-later.md",
            "bob",
        ),
    }
    missing = enqueue(client, "file_processing", "queued", chunking, **args("gone.md", "carol"))
    other = enqueue(client, "file_processing", "queued", "send_welcome_email", user_id="carol")
    runner = CliRunner()

    dry = runner.invoke(cli, ["migrate-rq", url, "--dry-run"], catch_exceptions=False)
    assert dry.exit_code == 1, dry.output  # the missing file needs attention
    assert dry.output.count(": would move (") == 4
    assert f"file_processing/queued {missing}: missing file" in dry.output
    assert f"file_processing/queued {other}: not an aibox task: {MODULE}.send_welcome_email" in (
        dry.output
    )
    assert job_registry().counts("file_processing")["finished"] == 0  # nothing submitted

    first = runner.invoke(cli, ["migrate-rq", url], catch_exceptions=False)
    assert first.exit_code == 1, first.output
    moved = dict(re.findall(r"(\S+): moved \(.*?\) as job (\S+)", first.output))
    assert set(moved) == set(planned), first.output
    for rq_id, aibox_id in moved.items():
        name, user = planned[rq_id]
        job = wait_for(
            lambda a=aibox_id: (
                (j := job_registry().get(a)) and j.state in {"finished", "failed"} and j
            ),
            timeout=120,
            interval=0.3,
        )
        assert job.state == "finished", (name, job.error)
        assert job.user_id == user
        record = file_store().get(str(job.file_id))
        assert record is not None
        assert (record.filename, record.user_id, record.status) == (name, user, "completed")
        assert file_store().path_of(record).read_bytes() == files[name]  # bytes copied
        assert [j.job_id for j in job_registry().jobs_of_file(record.file_id)] == [aibox_id]
    tasks = {job_registry().get(a).task for a in moved.values()}  # type: ignore[union-attr]
    assert tasks == {chunking, "process_vectorization_only_task", "process_kg_extraction_only_task"}
    # The counts per queue and outcome (columns: missing file, moved, not an aibox task).
    assert re.search(r"missing file\s*┃\s*moved\s*┃\s*not an aibox task", first.output)
    assert re.search(r"file_processing\s*│\s*1\s*│\s*2\s*│\s*1\s*│", first.output)
    assert re.search(r"kg_extraction\s*│\s*0\s*│\s*1\s*│\s*0\s*│", first.output)

    second = runner.invoke(cli, ["migrate-rq", url], catch_exceptions=False)
    assert second.output.count(": already moved") == 4, second.output
    assert ": moved (" not in second.output
    for aibox_id in moved.values():
        job = job_registry().get(aibox_id)
        assert job is not None
        assert [j.job_id for j in job_registry().jobs_of_file(str(job.file_id))] == [aibox_id]

    third = runner.invoke(cli, ["migrate-rq", url, "--remove"], catch_exceptions=False)
    assert "removed 4 moved job(s) from the old registries" in third.output, third.output
    assert old_ids(client) == {missing, other}  # what was not moved stays


def test_an_unreachable_old_redis_is_a_clear_error(redis_client: Any) -> None:
    from tests.support import free_port

    url = f"redis://:secret@127.0.0.1:{free_port()}/0"
    result = CliRunner().invoke(cli, ["migrate-rq", url], catch_exceptions=False)
    assert result.exit_code == 1
    assert "error: redis://:***@127.0.0.1" in result.output
    assert "secret" not in result.output
