"""The API's result backend never subscribes per submission (celery/celery#6963)."""

from __future__ import annotations

import json
import threading
import uuid

import redis
from celery import states
from celery.backends.redis import RedisBackend as StockRedisBackend
from celery.result import AsyncResult
from kombu import Exchange, Queue

from aibox import app
from aibox.tasks import process_kg_extraction_only_task
from tests.support import wait_for

# A queue no worker consumes, so the submissions stay put while we count subscriptions.
UNCONSUMED = Queue("aibox-test-unconsumed", Exchange("aibox-test-unconsumed"), "unconsumed")


def _result_channels(client: redis.Redis) -> list[bytes]:
    return list(client.pubsub_channels("celery-task-meta-*"))


def test_many_submissions_leave_no_result_subscriptions(redis_client: redis.Redis) -> None:
    broker = redis.Redis.from_url(app.conf.broker_url)
    submissions = 3000
    for _ in range(submissions):
        process_kg_extraction_only_task.apply_async(
            kwargs={"file_id": "none"}, queue=UNCONSUMED, task_id=str(uuid.uuid4())
        )
    assert broker.llen("aibox-test-unconsumed") == submissions
    assert not app.backend.result_consumer.subscribed_to
    assert _result_channels(broker) == []


def test_the_stock_backend_would_have_subscribed(redis_client: redis.Redis) -> None:
    """Control: the measurement above can see subscriptions when they happen."""
    stock = StockRedisBackend(app=app, url=app.conf.broker_url)
    broker = redis.Redis.from_url(app.conf.broker_url)
    try:
        for _ in range(50):
            stock.on_task_call(None, str(uuid.uuid4()))
        assert len(stock.result_consumer.subscribed_to) == 50
        assert len(_result_channels(broker)) == 50
    finally:
        stock.result_consumer.stop()


def _results() -> redis.Redis:
    """A client on the results backend's database (the broker's, by default)."""
    return redis.Redis.from_url(app.conf.result_backend.split("+", 1)[1])


def _meta(key: str) -> dict[str, object] | None:
    raw = _results().get(key)
    return None if raw is None else json.loads(raw)


def test_a_stored_success_is_never_overwritten(redis_client: redis.Redis) -> None:
    backend = app.backend
    task_id = str(uuid.uuid4())
    key = backend.get_key_for_task(task_id).decode()
    backend.store_result(task_id, None, states.STARTED)
    assert _meta(key)["status"] == "STARTED"  # type: ignore[index]
    backend.store_result(task_id, {"chunks": 3}, states.SUCCESS)
    # A late duplicate's STARTED or FAILURE (a redelivered job) must not replace it.
    backend.store_result(task_id, None, states.STARTED)
    backend.mark_as_failure(task_id, RuntimeError("late duplicate"))
    stored = _meta(key)
    assert stored is not None
    assert (stored["status"], stored["result"]) == ("SUCCESS", {"chunks": 3})
    assert 0 < _results().ttl(key) <= app.backend.expires


def test_a_stored_state_wakes_a_waiting_get(redis_client: redis.Redis) -> None:
    """The store publishes on the task's channel: ``AsyncResult.get()`` is woken by it."""
    task_id = str(uuid.uuid4())
    key = app.backend.get_key_for_task(task_id).decode()
    broker = _results()
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(AsyncResult(task_id).get(timeout=30)))
    waiter.start()
    wait_for(lambda: dict(broker.pubsub_numsub(key)).get(key.encode(), 0) > 0, timeout=30)
    app.backend.store_result(task_id, "done", states.SUCCESS)
    waiter.join(timeout=30)
    assert got == ["done"]


def test_an_unreadable_stored_value_is_replaced(redis_client: redis.Redis) -> None:
    task_id = str(uuid.uuid4())
    key = app.backend.get_key_for_task(task_id).decode()
    _results().set(key, b"not json")
    app.backend.store_result(task_id, None, states.STARTED)
    assert _meta(key)["status"] == "STARTED"  # type: ignore[index]
