"""GET /files/{id}/events: the status record pushed as Server-Sent Events until the job ends."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import fastapi.routing
import pytest
import redis
from fastapi.testclient import TestClient

from aibox import keys
from aibox.celery_app import app as celery_app
from aibox.services import status_store
from tests.api.test_files_e2e import DATA, upload, wait_until_done
from tests.support import wait_for


@contextmanager
def worker_paused(queue: str = "file_processing") -> Iterator[None]:
    """Jobs published meanwhile wait in the queue until the block ends."""
    assert celery_app.control.cancel_consumer(queue, reply=True, timeout=5, limit=1)
    try:
        yield
    finally:
        assert celery_app.control.add_consumer(queue, reply=True, timeout=5, limit=1)


def events(lines: Iterator[str]) -> Iterator[dict[str, Any] | str]:
    """SSE lines to events: the JSON of each ``data:`` event, or the text of a comment."""
    for line in lines:
        if line.startswith("data: "):
            yield json.loads(line.removeprefix("data: "))
        elif line.startswith(":"):
            yield line


def test_events_stream_live_progress_until_the_job_completes(
    api: TestClient, redis_client: redis.Redis
) -> None:
    with worker_paused():
        submitted = upload(api, "english.md", (DATA / "english.md").read_bytes())
        stream = api.stream("GET", f"/api/v1/files/{submitted['file_id']}/events")
        response = stream.__enter__()
        received = events(response.iter_lines())
        first = next(received)
    try:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert isinstance(first, dict)
        assert (first["status"], first["progress"], first["job_id"]) == (
            "queued",
            0,
            submitted["job_id"],
        )
        rest = [e for e in received if isinstance(e, dict)]  # ends when the server closes
    finally:
        stream.__exit__(None, None, None)
    assert len(rest) >= 3, rest
    assert rest[-1]["status"] == "completed"
    assert rest[-1]["progress"] == 100
    assert rest[-1]["kg_extraction"]["status"] == "completed"
    progress = [e["progress"] for e in [first, *rest]]
    assert progress == sorted(progress), progress
    assert {e["status"] for e in rest[:-1]} <= {"queued", "processing"}
    stamps = [e["updated_at"] for e in rest]
    assert stamps == sorted(stamps)


def test_a_finished_file_sends_one_event_and_ends(
    api: TestClient, redis_client: redis.Redis
) -> None:
    submitted = upload(api, "a.md", b"# A\n\nMarie Curie lived in Paris.\n")
    wait_until_done(api, submitted["file_id"])
    with api.stream("GET", f"/api/v1/files/{submitted['file_id']}/events") as response:
        received = list(events(response.iter_lines()))
    assert len(received) == 1
    assert isinstance(received[0], dict)
    assert received[0]["status"] == "completed"
    # With the status record expired, the file record still tells how it ended.
    redis_client.delete(f"processing:status:{submitted['file_id']}")
    with api.stream("GET", f"/api/v1/files/{submitted['file_id']}/events") as response:
        received = list(events(response.iter_lines()))
    assert [e["status"] for e in received if isinstance(e, dict)] == ["completed"]


def test_other_users_and_unknown_files_are_404(
    api: TestClient, make_client: Callable[[str], TestClient], redis_client: redis.Redis
) -> None:
    submitted = upload(api, "a.md", b"# A\n\nMarie Curie lived in Paris.\n")
    other = make_client("mallory")
    for client, file_id in ((other, submitted["file_id"]), (api, "no-such-file")):
        response = client.get(f"/api/v1/files/{file_id}/events")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/json"
        assert response.json()["code"] == "not_found"
    wait_until_done(api, submitted["file_id"])


def test_idle_streams_get_heartbeats_and_end_when_the_client_leaves(
    api: TestClient, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fastapi.routing, "_PING_INTERVAL", 0.2)
    with worker_paused():
        submitted = upload(api, "a.md", b"# A\n\nMarie Curie lived in Paris.\n")
        channel = keys.status_channel(submitted["file_id"])
        with api.stream("GET", f"/api/v1/files/{submitted['file_id']}/events") as response:
            received = events(response.iter_lines())
            assert isinstance(next(received), dict)
            assert next(received) == ": ping"
            assert next(received) == ": ping"
            assert redis_client.pubsub_numsub(channel) == [(channel, 1)]
        # The client went away: the stream's subscription (and connection) are released.
        wait_for(lambda: redis_client.pubsub_numsub(channel) == [(channel, 0)], timeout=5)
    wait_until_done(api, submitted["file_id"])


def test_deleting_the_status_record_ends_the_stream(
    api: TestClient, redis_client: redis.Redis
) -> None:
    with worker_paused():
        submitted = upload(api, "a.md", b"# A\n\nMarie Curie lived in Paris.\n")
        with api.stream("GET", f"/api/v1/files/{submitted['file_id']}/events") as response:
            received = events(response.iter_lines())
            assert isinstance(next(received), dict)
            status_store().forget(submitted["file_id"])  # what deleting the file does
            assert list(received) == []
    assert wait_until_done(api, submitted["file_id"])["status"] == "completed"
