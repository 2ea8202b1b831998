"""processing:status records: old field names, TTL, atomic per-field updates."""

from __future__ import annotations

import threading

import redis

from aibox.status import STAGES, StatusStore


def test_queued_record_has_the_old_shape_and_ttl(redis_client: redis.Redis) -> None:
    store = StatusStore(redis_client, ttl_s=7200)
    store.queued("f1", "job-1")
    record = store.get("f1")
    assert record is not None
    assert record["file_id"] == "f1"
    assert record["job_id"] == "job-1"
    assert record["status"] == "queued"
    assert record["progress"] == 0
    for stage in STAGES:
        assert record[stage] == {"status": "pending", "progress": 0}
    assert 7100 < redis_client.ttl("processing:status:f1") <= 7200


def test_stage_updates_merge_and_keep_types(redis_client: redis.Redis) -> None:
    store = StatusStore(redis_client, ttl_s=60)
    store.queued("f1", "job-1")
    store.update(
        "f1",
        status="processing",
        progress=50,
        stages={"chunking": {"status": "completed", "progress": 100, "chunk_count": 7}},
    )
    store.update("f1", stages={"vectorization": {"status": "processing", "progress": 10}})
    record = store.get("f1")
    assert record is not None
    assert record["status"] == "processing"
    assert record["progress"] == 50
    assert record["chunking"] == {"status": "completed", "progress": 100, "chunk_count": 7}
    assert record["vectorization"] == {"status": "processing", "progress": 10}


def test_unknown_file_has_no_status(redis_client: redis.Redis) -> None:
    assert StatusStore(redis_client, ttl_s=60).get("nope") is None


def test_concurrent_writers_to_different_fields_lose_nothing(redis_client: redis.Redis) -> None:
    """The old read-modify-write of one JSON string lost updates; per-field HSET cannot."""
    store = StatusStore(redis_client, ttl_s=60)
    store.queued("f1", "job-1")

    def write(stage: str) -> None:
        for i in range(200):
            store.update("f1", stages={stage: {"progress": i, f"{stage}_marker": i}})

    threads = [threading.Thread(target=write, args=(s,)) for s in STAGES]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    record = store.get("f1")
    assert record is not None
    for stage in STAGES:
        assert record[stage]["progress"] == 199
        assert record[stage][f"{stage}_marker"] == 199
