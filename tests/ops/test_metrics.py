"""``/metrics``: scraped after real jobs on the session worker, parsed with prometheus_client.

The gauges are compared with Redis read directly (broker lists, registry state sets), the
duration histogram with the number of jobs the worker ran.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from aibox import keys
from aibox.metrics import TaskDurations
from aibox.settings import get_settings
from tests.api.test_files_e2e import upload, wait_until_done
from tests.cli.support import STATES, broker_length, paused, session_node
from tests.support import QUEUES

FULL_TASK = "process_file_chunking_and_vectorization_task"


def scrape(
    client: TestClient, **headers: str
) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Sample name -> {sorted label pairs: value}."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[labels] = sample.value
    return samples


def duration_count(samples: dict[str, Any], task: str) -> float:
    return float(samples.get("aibox_task_duration_seconds_count", {}).get((("task", task),), 0))


def registry_count(client: redis.Redis, queue: str, state: str) -> int:
    return int(client.zcard(keys.jobs_by_state(queue, state)))


@pytest.fixture
def scrape_token() -> Iterator[str]:
    settings = get_settings()
    before = settings.metrics_token
    settings.metrics_token = SecretStr("scrape-token-for-tests-0123456789")
    yield "scrape-token-for-tests-0123456789"
    settings.metrics_token = before


def test_metrics_need_an_admin_or_the_scrape_token(
    make_client: Any, admin_api: TestClient, scrape_token: str
) -> None:
    user = make_client("someone")
    assert user.get("/metrics").status_code == 403
    anonymous = TestClient(user.app)
    assert anonymous.get("/metrics").status_code == 401
    bad = anonymous.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert bad.status_code == 401
    assert admin_api.get("/metrics").status_code == 200
    good = anonymous.get("/metrics", headers={"Authorization": f"Bearer {scrape_token}"})
    assert good.status_code == 200
    assert "aibox_queue_length" in good.text


def test_gauges_and_durations_match_redis_after_real_jobs(
    api: TestClient, admin_api: TestClient, redis_client: redis.Redis
) -> None:
    before = duration_count(scrape(admin_api), FULL_TASK)
    done = [
        upload(api, f"note-{i}.md", f"# Note {i}\n\nAda Lovelace wrote note {i}.\n".encode())
        for i in range(3)
    ]
    for item in done:
        assert wait_until_done(api, item["file_id"])["status"] == "completed"
    with paused(session_node(), ["file_processing"]):
        for i in range(2):
            upload(api, f"waiting-{i}.md", f"# Waiting {i}\n\nStill queued {i}.\n".encode())
        samples = scrape(admin_api)
        for queue in QUEUES:
            length = samples["aibox_queue_length"][(("queue", queue),)]
            assert length == broker_length(queue)
            for state in STATES:
                value = samples["aibox_jobs"][(("queue", queue), ("state", state))]
                expected = (
                    broker_length(queue)
                    if state == "queued"
                    else registry_count(redis_client, queue, state)
                )
                assert value == expected, (queue, state)
        assert samples["aibox_queue_length"][(("queue", "file_processing"),)] == 2
        assert samples["aibox_jobs"][(("queue", "file_processing"), ("state", "finished"))] == 3
    assert duration_count(samples, FULL_TASK) == before + 3
    label = (("task", FULL_TASK),)
    assert samples["aibox_task_duration_seconds_sum"][label] > 0
    buckets = sorted(
        (float(dict(labels)["le"]), value)
        for labels, value in samples["aibox_task_duration_seconds_bucket"].items()
        if dict(labels)["task"] == FULL_TASK
    )
    counts = [value for _, value in buckets]
    assert counts == sorted(counts), "buckets are cumulative"
    assert buckets[-1] == (float("inf"), before + 3)


def test_durations_fall_into_their_buckets(redis_client: redis.Redis) -> None:
    durations = TaskDurations(redis_client)
    for seconds in (0.01, 0.07, 0.07, 3.0, 99_999.0):
        durations.observe("some_task", seconds)
    histogram = durations.read()["some_task"]
    cumulative = dict(histogram.buckets)
    assert cumulative["0.05"] == 1
    assert cumulative["0.1"] == 3
    assert cumulative["2.5"] == 3
    assert cumulative["5.0"] == 4
    assert cumulative["3600.0"] == 4
    assert cumulative["+Inf"] == histogram.count == 5
    assert histogram.sum == pytest.approx(0.01 + 0.07 + 0.07 + 3.0 + 99_999.0)
    assert redis_client.hget(keys.task_durations("some_task"), "count") == "5"
