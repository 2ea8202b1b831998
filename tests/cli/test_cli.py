"""The ``aibox`` CLI against the session's Redis and real worker (typer's CliRunner, in process).

Every number the CLI prints is compared with Redis read directly, the monitoring API and
``celery inspect``; ``check`` is shown to fail on a queue nobody consumes and on a worker whose
pool is frozen (it still answers ping), and to pass again afterwards.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aibox import app, keys
from aibox.cli import cli, info, jobs, search
from aibox.connections import get_redis
from aibox.services import file_store, fulltext_index, job_registry, user_store
from aibox.store.locks import FileLock
from tests.cli.support import (
    CORRUPT_PDF,
    STATES,
    broker_length,
    frozen,
    paused,
    session_node,
)
from tests.support import (
    QUEUES,
    ROOT,
    HeldWorker,
    stop_process,
    wait_for,
)

DATA = Path(__file__).resolve().parent.parent / "data"
_IDS = re.compile(r"file (\w+) job ([\w-]+)")


@pytest.fixture
def runner(
    redis_client: redis.Redis, worker: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch
) -> CliRunner:
    """A CLI runner with the account ``local`` in place, printing 200 columns wide."""
    user_store().add("local", secrets.token_urlsafe(16), role="user")
    for module in (info, jobs, search):
        monkeypatch.setattr(module.console, "width", 200)
    return CliRunner()


def run(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(cli, list(args), catch_exceptions=False)


def submitted_ids(output: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in _IDS.finditer(output)]


def write(tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def test_submit_wait_processes_every_file(runner: CliRunner, tmp_path: Path) -> None:
    english = str(DATA / "english.md")
    chinese = str(DATA / "traditional.txt")
    result = run(
        runner, "submit", english, chinese, "--user", "local", "--wait", "--timeout", "120"
    )
    assert result.exit_code == 0, result.output
    ids = submitted_ids(result.output)
    assert len(ids) == 2
    for file_id, job_id in ids:
        record = file_store().get(file_id)
        assert record is not None
        assert record.user_id == "local"
        assert record.status == "completed"
        assert record.chunk_count > 0
        job = job_registry().get(job_id)
        assert job is not None
        assert job.state == "finished"
        assert job.file_id == file_id
    assert "100%" in result.output


def test_submit_wait_fails_and_prints_the_error(runner: CliRunner, tmp_path: Path) -> None:
    good = write(tmp_path, "good.md", b"# Fine\n\nGrace Hopper wrote compilers.\n")
    bad = write(tmp_path, "bad.pdf", CORRUPT_PDF)
    result = run(runner, "submit", good, bad, "--wait", "--timeout", "120")
    assert result.exit_code == 1, result.output
    (good_id, _), (_bad_id, bad_job) = submitted_ids(result.output)
    assert file_store().get(good_id).status == "completed"  # type: ignore[union-attr]
    failed = job_registry().get(bad_job)
    assert failed is not None
    assert failed.state == "failed"
    assert failed.error
    assert "failed:" in result.output
    assert "bad.pdf" in result.output
    message = failed.error.split(": ", 1)[-1]  # "UnreadableFileError: PDF is damaged…"
    assert " ".join(message.split()) in " ".join(result.output.split())


def test_submit_refuses_an_unknown_user(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "a.md", b"# A\n")
    result = run(runner, "submit", path, "--user", "nobody")
    assert result.exit_code == 1
    assert "no account" in result.output


def test_status_of_a_file_and_of_a_job(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, "s.md", b"# S\n\nAlan Turing worked in Manchester.\n")
    result = run(runner, "submit", path, "--wait", "--timeout", "120")
    assert result.exit_code == 0, result.output
    [(file_id, job_id)] = submitted_ids(result.output)
    by_file = json.loads(run(runner, "status", file_id, "--json").output)
    assert by_file["file"]["file_id"] == file_id
    assert by_file["status"]["status"] == "completed"
    assert by_file["status"]["job_id"] == job_id
    by_job = json.loads(run(runner, "status", job_id, "--json").output)
    assert by_job["job"]["state"] == "finished"
    assert by_job["job"]["file_id"] == file_id
    table = run(runner, "status", file_id)
    assert table.exit_code == 0
    assert "completed" in table.output
    missing = run(runner, "status", "no-such-id")
    assert missing.exit_code == 1
    assert "no file or job" in missing.output


def test_info_agrees_with_redis_the_api_and_inspect(
    runner: CliRunner, tmp_path: Path, redis_client: redis.Redis, admin_api: TestClient
) -> None:
    done = write(tmp_path, "done.md", b"# Done\n\nMarie Curie lived in Paris.\n")
    local = ("--user", "local")  # admin_api added a second account
    assert run(runner, "submit", done, *local, "--wait", "--timeout", "120").exit_code == 0
    with paused(session_node(), ["file_processing"]):
        for i in range(3):
            path = write(tmp_path, f"q{i}.md", f"# Q{i}\n\nWaiting {i}.\n".encode())
            assert run(runner, "submit", path, *local).exit_code == 0
        result = run(runner, "info", "--json", "--timeout", "2", "--users")
        assert result.exit_code == 0, result.output
        shown = json.loads(result.output)
        assert [(u["user_id"], u["queue"], u["queued"]) for u in shown["users"]] == [
            ("local", "file_processing", 3)
        ]
        assert 0 <= shown["users"][0]["oldest_wait_s"] < 60
        api_stats = admin_api.get("/api/v1/queues/stats").json()["data"]["queues"]
        for queue in QUEUES:
            numbers = shown["queues"][queue]
            assert numbers["queued"] == broker_length(queue)
            for state in STATES[1:]:
                assert numbers[state] == redis_client.zcard(keys.jobs_by_state(queue, state))
            for state in STATES:
                assert numbers[state] == api_stats[queue][state], (queue, state)
        assert shown["queues"]["file_processing"]["queued"] == 3
        assert shown["queues"]["file_processing"]["finished"] == 1
        inspected = app.control.inspect(timeout=2).active_queues() or {}
        assert set(shown["workers"]) == set(inspected)
        for node, queues in inspected.items():
            assert set(shown["workers"][node]["queues"]) == {q["name"] for q in queues}
        assert "file_processing" not in shown["workers"][session_node()]["queues"]
        table = run(runner, "info", "file_processing", "--users")
        assert table.exit_code == 0
        assert "file_processing" in table.output
        assert "none" in table.output
        assert "queued per user" in table.output
        assert re.search(r"local\s*│\s*file_processing\s*│\s*3\s*│", table.output), table.output
    table = run(runner, "info")
    assert all(queue in table.output for queue in QUEUES)
    assert session_node() in table.output
    assert run(runner, "info", "nope").exit_code == 1


def test_retry_failed_queues_the_failures_again(runner: CliRunner, tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.pdf", CORRUPT_PDF)
    assert run(runner, "submit", bad, "--wait", "--timeout", "120").exit_code == 1
    [failed] = job_registry().all_ids("file_processing", "failed")
    result = run(runner, "retry-failed", "file_processing")
    assert result.exit_code == 0, result.output
    assert f"retried {failed}" in result.output
    wait_for(lambda: job_registry().get(failed).state == "failed", timeout=120)  # type: ignore[union-attr]
    assert job_registry().get(failed).retries >= 1  # type: ignore[union-attr]
    assert run(runner, "retry-failed", "nope").exit_code == 1


def test_search_finds_the_users_chunks(runner: CliRunner, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "hopper.md",
        b"# Hopper\n\nGrace Hopper designed the first compiler for a programming language.\n",
    )
    assert run(runner, "submit", path, "--wait", "--timeout", "120").exit_code == 0
    result = run(runner, "search", "Grace Hopper compiler", "--top", "3")
    assert result.exit_code == 0, result.output
    assert "hopper.md" in result.output
    user_store().add("other", secrets.token_urlsafe(16), role="user")
    theirs = run(runner, "search", "Grace Hopper compiler", "--user", "other")
    assert "hopper.md" not in theirs.output
    # Two accounts now: a command must be told which one it acts for.
    several = run(runner, "search", "Grace Hopper compiler")
    assert several.exit_code == 1
    assert "2 accounts (local, other): choose one with --user" in several.output
    vector = run(runner, "search", "Grace Hopper compiler", "--mode", "vector", "--user", "local")
    assert vector.exit_code == 0, vector.output
    assert "vector 1" in vector.output
    graph = run(runner, "search", "who is grace hopper", "--graph", "--user", "local")
    assert graph.exit_code == 0, graph.output
    assert "fulltext 1" in graph.output
    assert "entities named in the query: Grace Hopper (PERSON)" in graph.output
    assert run(runner, "search", "Grace", "--mode", "semantic").exit_code == 2


def test_reindex_rebuilds_the_full_text_index_from_stored_chunks(
    runner: CliRunner, tmp_path: Path
) -> None:
    body = b"# Lovelace\n\nAda Lovelace wrote the first published algorithm.\n"
    path = write(tmp_path, "lovelace.md", body)
    assert run(runner, "submit", path, "--wait", "--timeout", "120").exit_code == 0
    (record,) = file_store().list_for_user("local")
    # As on a server upgraded from a version without a full-text index.
    fulltext_index().remove("local", record.file_id)
    assert "lovelace.md" not in run(runner, "search", "Lovelace", "--mode", "fulltext").output
    lock = FileLock(get_redis(), record.file_id, "a-running-job", 30)
    assert lock.acquire()
    try:
        held = run(runner, "reindex")
    finally:
        lock.release()
    assert "re-indexed 0 files; 1 held by running jobs" in held.output
    result = run(runner, "reindex", "--user", "local")
    assert result.exit_code == 0, result.output
    assert "re-indexed 1 files" in result.output
    assert "lovelace.md" in run(runner, "search", "Lovelace", "--mode", "fulltext").output


def test_check_passes_with_the_worker_consuming(runner: CliRunner) -> None:
    result = run(runner, "check", "--timeout", "30")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("ok") and "redis data" in line for line in lines)
    for queue in QUEUES:
        assert any(line.startswith("ok") and f"consuming {queue}" in line for line in lines)
        assert any(line.startswith("ok") and f"consumers {queue}" in line for line in lines)
    # Probes are not jobs.
    for queue in QUEUES:
        for state in STATES:
            assert job_registry().count(queue, state) == 0


def test_check_fails_for_a_queue_without_consumer(runner: CliRunner) -> None:
    with paused(session_node(), ["kg_extraction"]):
        result = run(runner, "check", "--timeout", "30")
        assert result.exit_code == 1, result.output
        assert "FAIL  consumers kg_extraction: no worker consumes it" in result.output
        assert re.search(r"^ok +consuming file_processing", result.output, re.M)
        some = run(runner, "check", "-Q", "kg_extraction,vectorization", "--timeout", "30")
        assert some.exit_code == 1
        assert "FAIL  consumers kg_extraction" in some.output
        assert "consumers vectorization: 1 worker(s)" in some.output
        assert "file_processing" not in some.output
        # As a unit's ExecStartPost: --wait retries until the consumer appears.
        resume = threading.Timer(
            3,
            lambda: app.control.add_consumer(
                "kg_extraction", destination=[session_node()], reply=True, timeout=5
            ),
        )
        resume.start()
        try:
            started = run(runner, "check", "-Q", "kg_extraction", "--wait", "60")
        finally:
            resume.join()
        assert started.exit_code == 0, started.output
        assert "ok    consuming kg_extraction: probe run by" in started.output
    assert run(runner, "check", "--timeout", "30").exit_code == 0


@contextmanager
def own_worker(
    start_worker: Callable[..., Any], queue: str, concurrency: int
) -> Iterator[tuple[str, list[int]]]:
    """A worker of our own, the only one consuming ``queue``; yields (node, pool pids)."""
    with paused(session_node(), [queue]):
        process, log, node = start_worker(f"cli-{queue}", (queue,), concurrency=concurrency)
        try:
            stats = wait_for(
                lambda: (app.control.inspect(destination=[node], timeout=2).stats() or {}).get(node)
            )
            yield node, [int(pid) for pid in stats["pool"]["processes"]]
        finally:
            stop_process(process)
            log.close()


@pytest.fixture
def own_kg_worker(
    start_worker: Callable[..., Any], runner: CliRunner
) -> Iterator[tuple[str, list[int]]]:
    """A worker of our own with 2 pool processes, the only one consuming kg_extraction."""
    with own_worker(start_worker, "kg_extraction", 2) as found:
        yield found


def test_check_fails_when_the_pool_does_not_consume(
    runner: CliRunner, own_kg_worker: tuple[str, list[int]]
) -> None:
    node, pids = own_kg_worker
    ok = run(runner, "check", "-Q", "kg_extraction", "--timeout", "30")
    assert ok.exit_code == 0, ok.output
    assert f"probe run by {node}" in ok.output
    with frozen(pids):
        assert app.control.ping(destination=[node], timeout=2), "still answers ping"
        stuck = run(runner, "check", "-Q", "kg_extraction", "--timeout", "5")
    assert stuck.exit_code == 1, stuck.output
    assert "FAIL  consuming kg_extraction" in stuck.output
    assert "not consuming" in stuck.output


def test_check_refuses_an_unknown_queue(runner: CliRunner) -> None:
    result = run(runner, "check", "-Q", "nope")
    assert result.exit_code == 2
    assert "unknown nope" in result.output


def test_check_calls_a_queue_whose_every_slot_runs_a_job_busy_not_stuck(
    runner: CliRunner, tmp_path: Path, held_worker: HeldWorker
) -> None:
    # The held worker is file_processing's only consumer, with one pool process.
    path = write(tmp_path, "held.md", b"# Held\n\nAda Lovelace wrote the first algorithm.\n")
    result = run(runner, "submit", path)
    [(_, job_id)] = submitted_ids(result.output)
    held_worker.wait_running()  # its one slot runs this job, held by the test
    assert job_registry().get(job_id).state == "started"  # type: ignore[union-attr]
    busy = run(runner, "check", "-Q", "file_processing", "--timeout", "3")
    assert job_registry().get(job_id).state == "started"  # type: ignore[union-attr]
    assert busy.exit_code == 0, busy.output
    assert "ok    consuming file_processing: busy: every slot of" in busy.output
    assert held_worker.node in busy.output
    held_worker.release()


def test_check_as_a_probe_command_exits_0_then_1(runner: CliRunner) -> None:
    """The way systemd or supervisor run it: its own process, judged by the exit status."""
    command = [sys.executable, "-m", "aibox.cli", "check", "--timeout", "30"]
    passed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert len(passed.stdout.splitlines()) == 2 + 2 * len(QUEUES)
    with paused(session_node(), ["vectorization"]):
        failed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "FAIL  consumers vectorization" in failed.stdout
