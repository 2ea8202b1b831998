"""End to end: HTTP upload → real Celery worker → effects in Redis, vector sets and the graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import redis
from fastapi.testclient import TestClient

from aibox import keys, processing
from aibox.connections import get_binary_redis, get_graph_db
from aibox.services import job_registry
from aibox.store.graph import GraphStore
from tests.support import wait_for

DATA = Path(__file__).resolve().parent.parent / "data"
USER = "local"


def upload(api: TestClient, name: str, content: bytes) -> dict[str, Any]:
    response = api.post("/api/v1/files", files={"file": (name, content, "text/plain")})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["success"] is True
    assert body["data"]["status"] == "queued"
    return dict(body["data"])


def wait_until_done(api: TestClient, file_id: str, timeout: float = 60) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        status = api.get(f"/api/v1/files/{file_id}/status").json()["data"]
        return status if status["status"] in {"completed", "failed"} else None

    return dict(wait_for(done, timeout=timeout, interval=0.2))


def wait_for_job(api: TestClient, job_id: str, timeout: float = 60) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        job = api.get(f"/api/v1/jobs/{job_id}").json()["data"]
        return job if job["state"] in {"finished", "failed"} else None

    return dict(wait_for(ended, timeout=timeout, interval=0.2))


def fulltext_snapshot(user: str = USER) -> dict[bytes, dict[bytes, bytes]]:
    """Every posting of the user's full-text index, term key -> {file ref: packed records}."""
    raw = get_binary_redis()
    return {key: raw.hgetall(key) for key in raw.scan_iter(match=keys.fulltext_postings(user, "*"))}


def vector_count(client: redis.Redis) -> int:
    key = keys.vector_set(USER, processing.embedder().id)
    return int(client.vset().vcard(key))


def test_english_markdown_and_traditional_chinese_text_complete(
    api: TestClient, redis_client: redis.Redis
) -> None:
    english = upload(api, "english.md", (DATA / "english.md").read_bytes())
    chinese = upload(api, "traditional.txt", (DATA / "traditional.txt").read_bytes())
    for submitted in (english, chinese):
        status = wait_until_done(api, submitted["file_id"])
        assert status["status"] == "completed", status
        assert status["progress"] == 100
        assert status["chunking"]["status"] == "completed"
        assert status["chunking"]["chunk_count"] >= 1
        assert status["vectorization"]["vector_count"] == status["chunking"]["chunk_count"]
        assert status["kg_extraction"]["status"] == "completed"
        job = api.get(f"/api/v1/jobs/{submitted['job_id']}").json()["data"]
        assert job["state"] == "finished"
        assert job["celery_state"] == "SUCCESS"
        assert job["result"]["chunk_count"] == status["chunking"]["chunk_count"]
        assert job["queue"] == "file_processing"
    chunks = sum(redis_client.hlen(keys.chunks(f["file_id"])) for f in (english, chinese))
    assert vector_count(redis_client) == chunks
    graph = GraphStore(get_graph_db())
    counts = graph.counts(USER)
    assert counts.entities >= 10
    assert counts.relations >= 4
    names = {
        row[0] for row in graph.graph(USER).ro_query("MATCH (e:Entity) RETURN e.name").result_set
    }
    assert "Apple Inc." in names or "Apple" in names
    assert any("台積電" in n or "台灣積體電路" in n for n in names)
    registry = job_registry()
    assert registry.count("file_processing", "finished") == 2


def test_regenerating_twice_leaves_the_same_counts(
    api: TestClient, redis_client: redis.Redis
) -> None:
    submitted = upload(api, "english.md", (DATA / "english.md").read_bytes())
    wait_until_done(api, submitted["file_id"])
    graph = GraphStore(get_graph_db())
    vectors, counts = vector_count(redis_client), graph.counts(USER)
    postings = fulltext_snapshot()
    assert len(postings) > 30  # english.md has about 50 distinct terms
    for kind in ("vector", "vector", "graph", "graph", "full"):
        response = api.post(f"/api/v1/files/{submitted['file_id']}/regenerate", json={"type": kind})
        assert response.status_code == 202, response.text
        job = wait_for_job(api, response.json()["data"]["job_id"])
        assert job["state"] == "finished", job
        expected_queue = {"vector": "vectorization", "graph": "kg_extraction"}.get(
            kind, "file_processing"
        )
        assert job["queue"] == expected_queue
        assert vector_count(redis_client) == vectors
        assert graph.counts(USER) == counts
        assert fulltext_snapshot() == postings
    assert registry_states(submitted["file_id"]) == {"finished"}


def registry_states(file_id: str) -> set[str]:
    registry = job_registry()
    states = set()
    for queue in ("file_processing", "vectorization", "kg_extraction"):
        for state in ("queued", "started", "finished", "failed"):
            for job_id in registry.job_ids(queue, state, limit=1000):
                record = registry.get(job_id)
                if record is not None and record.file_id == file_id:
                    states.add(state)
    return states


def test_binary_file_fails_clearly_and_the_worker_goes_on(
    api: TestClient, redis_client: redis.Redis
) -> None:
    bad = upload(api, "photo.txt", bytes(range(256)) * 100)
    good = upload(api, "english.md", (DATA / "english.md").read_bytes())
    status = wait_until_done(api, bad["file_id"])
    assert status["status"] == "failed"
    assert "binary" in status["message"]
    assert status["chunking"]["status"] == "failed"
    assert "binary" in status["chunking"]["error"]
    job = wait_for_job(api, bad["job_id"])
    assert job["state"] == "failed"
    assert job["celery_state"] == "FAILURE"
    assert "binary" in job["error"]
    assert job["retries"] == 0  # a permanent error does not retry
    record = job_registry().get(bad["job_id"])
    assert record is not None
    assert record.traceback is not None
    assert "UnreadableFileError" in record.traceback
    assert bad["job_id"] in job_registry().job_ids("file_processing", "failed")
    assert wait_until_done(api, good["file_id"])["status"] == "completed"
    after = upload(api, "again.md", b"# Again\n\nTim Cook visited Berlin with Angela Merkel.\n")
    assert wait_until_done(api, after["file_id"])["status"] == "completed"


def test_unknown_ids_are_not_found_in_the_envelope(api: TestClient) -> None:
    for path in ("/api/v1/jobs/never-existed", "/api/v1/files/nope/status", "/api/v1/files/nope"):
        response = api.get(path)
        assert response.status_code == 404, path
        body = response.json()
        assert body["success"] is False
        assert body["code"] == "not_found"
    response = api.post("/api/v1/files/nope/regenerate", json={"type": "vector"})
    assert response.status_code == 404


def test_unsupported_type_and_invalid_requests_are_refused(
    api: TestClient, redis_client: redis.Redis
) -> None:
    response = api.post("/api/v1/files", files={"file": ("photo.png", b"\x89PNG", "image/png")})
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_file_type"
    assert "unsupported file type: .png" in response.json()["message"]
    assert redis_client.zcard(keys.user_files(USER)) == 0
    response = api.post("/api/v1/files")
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    submitted = upload(api, "a.md", b"# A\n\nSome text about Paris.\n")
    response = api.post(
        f"/api/v1/files/{submitted['file_id']}/regenerate", json={"type": "everything"}
    )
    assert response.status_code == 422
    wait_until_done(api, submitted["file_id"])


def test_health(api: TestClient) -> None:
    response = api.get("/health")
    assert response.status_code == 200
    assert response.json()["data"] == {"status": "ok", "redis": True, "detail": None}


def test_upload_over_the_size_limit_is_413_and_stores_nothing(
    api: TestClient, redis_client: redis.Redis
) -> None:
    from aibox.api.deps import current_settings
    from aibox.api.main import app
    from aibox.settings import Settings, get_settings

    storage = get_settings().storage_path / USER
    before = set(storage.iterdir()) if storage.exists() else set()
    app.dependency_overrides[current_settings] = lambda: Settings(max_upload_bytes=1024)
    try:
        response = api.post("/api/v1/files", files={"file": ("big.txt", b"a" * 2048, "text/plain")})
    finally:
        app.dependency_overrides.clear()
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert "1024-byte limit" in response.json()["message"]
    assert redis_client.zcard(keys.user_files(USER)) == 0
    assert (set(storage.iterdir()) if storage.exists() else set()) == before
