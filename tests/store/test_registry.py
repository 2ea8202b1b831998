"""The job registry: one state at a time, unknown ids unknown, retention."""

from __future__ import annotations

import redis

from aibox import keys
from aibox.store.registry import JOB_STATES, JobRegistry


def _states_holding(client: redis.Redis, queue: str, job_id: str) -> list[str]:
    return [
        s for s in JOB_STATES if client.zscore(keys.jobs_by_state(queue, s), job_id) is not None
    ]


def test_a_job_moves_through_exactly_one_state_at_a_time(redis_client: redis.Redis) -> None:
    registry = JobRegistry(redis_client, retention_s=3600)
    registry.published("j1", task="t", queue="q", file_id="f1", user_id="u1")
    assert _states_holding(redis_client, "q", "j1") == ["queued"]
    created = redis_client.hget(keys.job("j1"), "created_at")
    assert redis_client.smembers(keys.file_jobs("f1")) == {"j1"}
    assert 0 < redis_client.ttl(keys.file_jobs("f1")) <= 3600
    registry.started("j1", queue="q", task="t", worker="w@h")
    assert _states_holding(redis_client, "q", "j1") == ["started"]
    registry.retrying("j1", error="boom")
    registry.published("j1", task="t", queue="q", file_id="f1", user_id="u1")
    assert _states_holding(redis_client, "q", "j1") == ["queued"]
    assert redis_client.hget(keys.job("j1"), "created_at") == created  # a retry keeps it
    registry.started("j1", queue="q", task="t", worker="w@h")
    registry.failed("j1", queue="q", error="ValueError: bad", traceback="Traceback...")
    assert _states_holding(redis_client, "q", "j1") == ["failed"]
    record = registry.get("j1")
    assert record is not None
    assert record.state == "failed"
    assert record.retries == 1
    assert record.error == "ValueError: bad"
    assert record.file_id == "f1"
    assert record.user_id == "u1"
    assert record.created_at is not None
    assert record.started_at is not None
    assert record.ended_at is not None
    assert record.created_at <= record.started_at <= record.ended_at
    assert registry.count("q", "failed") == 1
    assert registry.job_ids("q", "failed") == ["j1"]
    assert registry.count("q", "queued") == 0
    again = registry.requeue("j1")
    assert again is not None
    assert again.state == "failed"
    assert _states_holding(redis_client, "q", "j1") == ["queued"]
    assert registry.get("j1").retries == 2  # type: ignore[union-attr]
    assert registry.requeue("j1") is None  # only a failed job can be queued again


def test_a_job_that_never_existed_is_not_found(redis_client: redis.Redis) -> None:
    assert JobRegistry(redis_client, retention_s=3600).get("never-submitted") is None


def test_records_expire_and_old_terminal_entries_are_trimmed(redis_client: redis.Redis) -> None:
    registry = JobRegistry(redis_client, retention_s=100)
    redis_client.zadd(keys.jobs_by_state("q", "finished"), {"ancient": 1.0})
    registry.published("j2", task="t", queue="q", file_id=None, user_id=None)
    registry.finished("j2", queue="q")
    assert registry.job_ids("q", "finished") == ["j2"]
    assert 0 < redis_client.ttl(keys.job("j2")) <= 100


def test_an_outcome_of_a_forgotten_job_writes_nothing(redis_client: redis.Redis) -> None:
    """A job that ends after its record went (file deleted, retention) leaves no half record."""
    registry = JobRegistry(redis_client, retention_s=3600)
    registry.published("gone", task="t", queue="q", file_id=None, user_id=None)
    registry.started("gone", queue="q", task="t", worker="w@h")
    redis_client.delete(keys.job("gone"))
    registry.failed("gone", queue="q", error="FileNotFoundInStoreError: deleted", traceback=None)
    registry.retrying("gone", error="boom")
    registry.finished("gone", queue="q")
    registry.revoked("gone", queue="q")
    assert not redis_client.exists(keys.job("gone"))
    assert registry.get("gone") is None
    assert registry.count("q", "failed") == registry.count("q", "finished") == 0
    # A start carries the task's name, so it may create the record (a job published by a
    # producer without aibox's publish hook).
    registry.started("foreign", queue="q", task="t", worker="w@h")
    record = registry.get("foreign")
    assert record is not None
    assert (record.task, record.state) == ("t", "started")


def test_a_claim_records_a_job_only_while_the_file_has_no_active_one(
    redis_client: redis.Redis,
) -> None:
    registry = JobRegistry(redis_client, retention_s=3600)

    def claim(job_id: str) -> tuple[str, str] | None:
        return registry.claim(
            job_id, task="t", queue="q", file_id="f9", user_id="u1", args=[], kwargs={"k": 1}
        )

    assert claim("a") is None
    first = registry.get("a")
    assert first is not None
    assert (first.state, first.file_id, first.kwargs) == ("queued", "f9", {"k": 1})
    assert first.created_at is not None
    assert claim("b") == ("a", "queued")
    assert registry.get("b") is None  # a refused claim writes nothing
    assert redis_client.smembers(keys.file_jobs("f9")) == {"a"}
    registry.started("a", queue="q", task="t", worker="w@h")
    assert claim("b") == ("a", "started")
    registry.finished("a", queue="q")
    assert claim("b") is None
    registry.failed("b", queue="q", error="boom", traceback=None)
    redis_client.delete(keys.job("b"))  # an expired record in the file's set is no job
    assert claim("c") is None
    assert _states_holding(redis_client, "q", "c") == ["queued"]
