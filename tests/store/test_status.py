"""processing:status records: old field names, TTL, atomic per-field updates, change notices."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from contextlib import aclosing
from typing import Any

import redis
import redis.asyncio

from aibox import keys
from aibox.store.files import FileRecord
from aibox.store.status import STAGES, StatusStore, settled_status, watch_status
from tests.conftest import DATA_URL


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


def test_a_write_after_the_record_went_away_recreates_a_whole_record(
    redis_client: redis.Redis,
) -> None:
    store = StatusStore(redis_client, ttl_s=60)
    store.queued("f1", "job-1")
    store.forget("f1")
    store.update("f1", status="processing", progress=10)
    record = store.get("f1")
    assert record is not None
    assert (record["file_id"], record["status"], record["progress"]) == ("f1", "processing", 10)


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


def test_every_write_publishes_a_notice_naming_only_the_file(redis_client: redis.Redis) -> None:
    store = StatusStore(redis_client, ttl_s=60)
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(keys.status_channel("f1"))
    assert pubsub.get_message(timeout=5) is None  # the subscription is confirmed
    store.queued("f1", "job-1")
    store.update("f1", progress=40, stages={"chunking": {"status": "processing"}})
    store.update("f1", status="completed", progress=100)
    store.forget("f1")
    received = []
    while len(received) < 4 and (message := pubsub.get_message(timeout=5)) is not None:
        received.append(json.loads(message["data"]))
    pubsub.close()
    assert received == [
        {"file_id": "f1", "status": "queued"},
        {"file_id": "f1", "status": None},
        {"file_id": "f1", "status": "completed"},
        {"file_id": "f1", "status": "deleted"},
    ]
    assert store.get("f1") is None


def test_watch_status_yields_the_current_record_then_each_change(
    redis_client: redis.Redis,
) -> None:
    store = StatusStore(redis_client, ttl_s=60)
    store.queued("f1", "job-1")
    seen: list[dict[str, Any] | None] = []
    writer: list[asyncio.Task[None]] = []

    async def watch() -> None:
        client = redis.asyncio.Redis.from_url(DATA_URL, decode_responses=True)
        try:
            async with aclosing(watch_status(client, "f1")) as changes:
                async for status in changes:
                    seen.append(status)
                    if status is None:
                        return
                    if len(seen) == 1:
                        writer.append(asyncio.create_task(asyncio.to_thread(write_changes)))
                    elif status["status"] == "completed":
                        await asyncio.to_thread(store.forget, "f1")
        finally:
            await client.aclose()

    def write_changes() -> None:
        for progress in (10, 50, 90):
            store.update("f1", status="processing", progress=progress)
            time.sleep(0.05)
        store.update("f1", status="completed", progress=100)

    asyncio.run(asyncio.wait_for(watch(), timeout=10))
    statuses = [s and (s["status"], s["progress"]) for s in seen]
    assert statuses[0] == ("queued", 0)
    assert statuses[-1] is None
    assert statuses[-2] == ("completed", 100)
    progress = [s[1] for s in statuses[1:-1] if s]
    assert progress == sorted(progress)
    assert len(progress) >= 3  # updates 50 ms apart each arrive (a burst is read once)


def test_a_missing_record_can_be_settled_from_the_file_record() -> None:
    record = FileRecord(
        file_id="f1",
        user_id="u1",
        filename="a.txt",
        file_type="txt",
        size=1,
        sha256="0",
        path="u1/f1",
        created_at=0,
        status="completed",
        job_id="j",
    )
    settled = settled_status(record)
    assert (settled["status"], settled["progress"], settled["job_id"]) == ("completed", 100, "j")
    assert settled["kg_extraction"] == {"status": "completed", "progress": 100}
