"""The API's result backend never subscribes per submission (celery/celery#6963)."""

from __future__ import annotations

import uuid

import redis
from celery.backends.redis import RedisBackend as StockRedisBackend
from kombu import Exchange, Queue

from aibox import app
from aibox.tasks import process_kg_extraction_only_task

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
