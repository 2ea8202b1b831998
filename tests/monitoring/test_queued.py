"""Queued jobs as the broker holds them: counts over every priority list, paging in order."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from aibox import keys
from aibox.monitoring.cursor import encode_cursor
from tests.monitoring.support import (
    V1,
    broker_client,
    broker_lists,
    list_lengths,
    page_through,
    paused,
    publish,
    queued_ids,
    session_node,
)
from tests.support import QUEUES

#: Priorities as published, and the list (index into PRIORITY_LISTS) kombu puts each in.
PRIORITIES: list[tuple[int | None, int]] = [
    (None, 0),
    (0, 0),
    (1, 0),
    (3, 1),
    (5, 1),
    (6, 2),
    (9, 3),
    (None, 0),
    (9, 3),
    (4, 1),
]


@pytest.fixture
def no_consumer(worker: subprocess.Popen[bytes], redis_client: redis.Redis) -> Iterator[None]:
    """The session worker consumes neither file_processing nor vectorization meanwhile."""
    with paused(session_node(), ("file_processing", "vectorization")):
        yield


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    with broker_client() as client:
        yield client


def command_calls(client: redis.Redis) -> dict[str, int]:
    """Calls per command since the last CONFIG RESETSTAT (server-wide)."""
    stats: dict[str, Any] = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


def test_queued_counts_come_from_every_priority_list(
    admin_api: TestClient, no_consumer: None, broker: redis.Redis
) -> None:
    published = [publish(f"file-{i}", priority) for i, (priority, _) in enumerate(PRIORITIES)]
    other = [publish_to_vectorization(i) for i in range(3)]
    expected = [0, 0, 0, 0]
    for _, bucket in PRIORITIES:
        expected[bucket] += 1
    assert list_lengths(broker, "file_processing") == expected
    assert all(expected), "every priority list holds messages"
    assert sorted(queued_ids(broker, "file_processing")) == sorted(published)

    broker.config_resetstat()
    lengths = admin_api.get(f"{V1}/queues").json()["data"]["lengths"]
    stats = admin_api.get(f"{V1}/queues/stats").json()["data"]["queues"]
    one = admin_api.get(f"{V1}/queues/file_processing/stats").json()["data"]
    pages, _ = page_through(admin_api, "file_processing", "queued", 4)
    calls = command_calls(broker)
    assert "keys" not in calls, calls
    assert "scan" not in calls, calls
    assert calls.get("llen", 0) >= 8  # the lists were read

    for queue in QUEUES:
        llen_sum = sum(list_lengths(broker, queue))
        assert lengths[queue] == llen_sum
        assert stats[queue]["queued"] == llen_sum
    assert lengths == {"file_processing": len(published), "vectorization": 3, "kg_extraction": 0}
    assert one == stats["file_processing"]
    assert one["total"] == sum(
        one[s] for s in ("queued", "started", "finished", "failed", "revoked")
    )
    assert [j["job_id"] for j in pages] == queued_ids(broker, "file_processing")
    assert {j["job_id"] for j in pages} == set(published)
    # kombu writes priority 0 into a message published without one.
    assert {j["priority"] for j in pages} == {p or 0 for p, _ in PRIORITIES}
    assert other

    # The count is the broker's, not the registry's: a message a worker took (here, by hand)
    # leaves the count at once although the registry still calls the job queued.
    taken = json.loads(broker.rpop("file_processing"))["headers"]["id"]
    assert broker.zscore(keys.jobs_by_state("file_processing", "queued"), taken) is None
    assert admin_api.get(f"{V1}/queues/file_processing/stats").json()["data"]["queued"] == (
        len(published) - 1
    )


def publish_to_vectorization(i: int) -> str:
    from aibox.tasks import process_vectorization_only_task

    result = process_vectorization_only_task.apply_async(
        kwargs={"file_id": f"vector-{i}", "user_id": "nobody"}
    )
    return str(result.id)


def test_paging_queued_visits_each_job_once_in_worker_order(
    admin_api: TestClient, no_consumer: None, broker: redis.Redis
) -> None:
    published = [publish(f"file-{i}", (None, 9, 3, 6, 0)[i % 5]) for i in range(25)]
    order = queued_ids(broker, "file_processing")
    assert sorted(order) == sorted(published)
    jobs, pages = page_through(admin_api, "file_processing", "queued", 10)
    assert [j["job_id"] for j in jobs] == order
    assert pages == 3
    assert all(j["state"] == "queued" and j["queue"] == "file_processing" for j in jobs)
    assert jobs[0]["file_id"] == f"file-{published.index(order[0])}"
    # Without a status the listing starts with the queued jobs, in the same order.
    first = admin_api.get(f"{V1}/queues/file_processing/jobs", params={"limit": 10}).json()
    assert [j["job_id"] for j in first["data"]["jobs"]] == order[:10]


@pytest.mark.parametrize("taken", [4, 12])
def test_paging_queued_while_a_worker_consumes_skips_and_repeats_nothing(
    admin_api: TestClient, no_consumer: None, broker: redis.Redis, taken: int
) -> None:
    for i in range(25):
        publish(f"file-{i}", (None, 6)[i % 2])
    order = queued_ids(broker, "file_processing")
    url = f"{V1}/queues/file_processing/jobs"
    first = admin_api.get(url, params={"status": "queued", "limit": 10}).json()["data"]
    assert [j["job_id"] for j in first["jobs"]] == order[:10]
    # Meanwhile a worker takes messages, as BRPOP would: 4 (all listed already) or 12 (every
    # listed one and two more); the next page goes on after what is left, as if unmoved.
    for _ in range(taken):
        assert broker.rpop(broker_lists("file_processing")[0]) is not None
    rest: list[str] = []
    cursor = first["next_cursor"]
    while cursor:
        page = admin_api.get(url, params={"status": "queued", "limit": 10, "cursor": cursor})
        assert page.status_code == 200, page.text
        rest += [j["job_id"] for j in page.json()["data"]["jobs"]]
        cursor = page.json()["data"]["next_cursor"]
    assert rest == order[max(10, taken) :]


def test_invalid_cursors_are_400(admin_api: TestClient, no_consumer: None) -> None:
    for i in range(5):
        publish(f"file-{i}")
    url = f"{V1}/queues/file_processing/jobs"
    first = admin_api.get(url, params={"status": "queued", "limit": 2}).json()["data"]
    cursor = first["next_cursor"]
    assert cursor
    assert admin_api.get(url, params={"status": "queued", "cursor": cursor}).status_code == 200
    bad = [
        ({"cursor": "not-a-cursor"}, "garbage"),
        ({"cursor": "e30"}, "an empty object"),
        (
            {"cursor": encode_cursor({"q": "file_processing", "s": "queued", "p": {"b": "x"}})},
            "types",
        ),
        ({"cursor": encode_cursor({"q": "file_processing", "s": "nope", "p": None})}, "state"),
        ({"cursor": encode_cursor([1, 2])}, "a list"),  # type: ignore[arg-type]
        ({"status": "finished", "cursor": cursor}, "another status"),
        ({"cursor": "gA"}, "not UTF-8"),
    ]
    hostile = [
        {"b": -100, "o": 0, "j": "x"},
        {"b": 2**31, "o": 0, "j": "x"},
        {"b": 0, "o": -3, "j": "x"},
        {"b": 0, "o": 10**30, "j": "x"},
        {"b": 1.5, "o": 0, "j": "x"},
    ]
    for position in hostile:
        token = encode_cursor({"q": "file_processing", "s": "queued", "p": position})
        bad.append(({"cursor": token}, f"queued position {position}"))
    for t in (float("nan"), float("inf"), float("-inf"), 10**400, True):
        token = encode_cursor({"q": "file_processing", "s": "failed", "p": {"t": t, "j": "x"}})
        bad.append(({"cursor": token, "status": "failed"}, f"registry position {t}"))
    for params, why in bad:
        response = admin_api.get(url, params={"limit": 2, **params})
        assert response.status_code == 400, (why, response.text)
        assert response.json()["success"] is False
    response = admin_api.get(
        f"{V1}/queues/vectorization/jobs", params={"status": "queued", "cursor": cursor}
    )
    assert response.status_code == 400, "a cursor of another queue"
    for params in ({"status": "bogus"}, {"limit": 0}, {"limit": 101}, {"limit": "x"}):
        response = admin_api.get(url, params=params)
        assert response.status_code == 422, (params, response.text)
