"""upload:progress:{file_id}: kept while a file streams in, readable by its uploader only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis
from fastapi.testclient import TestClient

from aibox import keys
from aibox.settings import get_settings
from aibox.store import uploads as uploads_progress
from aibox.store.uploads import ProgressTracker, UploadProgressStore
from tests.api.test_files_e2e import wait_until_done
from tests.api.test_uploads import multipart, post_raw

MIB = 1024 * 1024


def test_the_tracker_writes_now_and_then_with_a_percentage_when_the_size_is_known(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads_progress, "_SAVE_EVERY_S", 3600)
    store = UploadProgressStore(redis_client, ttl_s=120)
    tracker = ProgressTracker(store, "f1", "u1", "a.txt", total_bytes=10 * MIB)

    def saved() -> tuple[str, int, int | None]:
        record = store.get("f1")
        assert record is not None
        return record.status, record.bytes_received, record.progress

    assert store.get("f1") is None  # nothing to watch yet
    tracker.received(MIB // 2)
    assert store.get("f1") is None  # not every chunk is a write
    tracker.received(MIB // 2)
    assert saved() == ("uploading", MIB, 10)
    tracker.received(MIB // 2)
    tracker.arrived()
    assert saved() == ("uploading", 3 * MIB // 2, 100)
    tracker.completed("stored", stored_as="f1")
    assert saved() == ("completed", 3 * MIB // 2, 100)
    assert (store.get("f1") or pytest.fail("gone")).stored_as == "f1"
    assert 110 < redis_client.ttl(keys.upload_progress("f1")) <= 120
    unknown = ProgressTracker(store, "f2", "u1", "b.txt", total_bytes=None)
    unknown.received(2 * MIB)
    record = store.get("f2")
    assert record is not None
    assert (record.bytes_received, record.progress) == (2 * MIB, None)
    unknown.failed("interrupted")
    record = store.get("f2")
    assert record is not None
    assert (record.status, record.message) == ("failed", "interrupted")


def test_a_file_that_arrives_at_once_is_written_once_when_it_is_stored(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads_progress, "_SAVE_EVERY_S", 3600)
    store = UploadProgressStore(redis_client, ttl_s=120)
    tracker = ProgressTracker(store, "f3", "u1", "small.txt", total_bytes=1024)
    tracker.received(1024)
    tracker.arrived()
    assert store.get("f3") is None
    tracker.completed("stored", stored_as="f3")
    record = store.get("f3")
    assert record is not None
    assert (record.status, record.bytes_received, record.progress) == ("completed", 1024, 100)
    refused = ProgressTracker(store, "f4", "u1", "bad.bin", total_bytes=None)
    refused.failed("unsupported")
    record = store.get("f4")
    assert record is not None
    assert (record.status, record.message) == ("failed", "unsupported")


def test_the_uploader_reads_the_record_and_nobody_else(
    api: TestClient, make_client: Callable[[str], TestClient], redis_client: redis.Redis
) -> None:
    content = b"Ada Lovelace lived in London.\n" * 10
    params = (
        b'; filename="a.txt"\r\nContent-Type: text/plain\r\n'
        + f"Content-Length: {len(content)}".encode()
    )
    submitted = post_raw(api, multipart(("files", params, content))).json()["data"]["files"][0]
    file_id = submitted["file_id"]
    response = api.get(f"/api/v1/files/{file_id}/upload")
    assert response.status_code == 200
    progress = response.json()["data"]
    assert progress["file_id"] == progress["upload_id"] == submitted["upload_id"] == file_id
    assert progress["filename"] == "a.txt"
    assert progress["status"] == "completed"
    assert progress["bytes_received"] == progress["total_bytes"] == len(content)
    assert progress["progress"] == 100
    assert submitted["job_id"] in progress["message"]
    assert "user_id" not in progress
    ttl = get_settings().upload_progress_ttl_s
    assert ttl - 10 < redis_client.ttl(keys.upload_progress(file_id)) <= ttl
    for client, some_id in ((make_client("eve"), file_id), (api, "no-such-upload")):
        response = client.get(f"/api/v1/files/{some_id}/upload")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    wait_until_done(api, file_id)


def test_a_part_declaring_more_than_the_limit_is_refused_before_its_data(
    api: TestClient, redis_client: redis.Redis
) -> None:
    limit = get_settings().max_upload_bytes
    params = f'; filename="a.txt"\r\nContent-Length: {limit + 1}'.encode()
    response = post_raw(api, multipart(("files", params, b"short")))
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert response.json()["data"]["files"][0]["file_id"] is None  # nothing was started
    assert list(redis_client.scan_iter(match=keys.upload_progress("*"))) == []
