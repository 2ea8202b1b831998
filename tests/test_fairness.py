"""Fair scheduling between users (aibox/fairness.py) on the real server, and with a real worker.

The first tests drive the Lua scripts directly on the broker database (no worker consumes the
queue names they use); the last uploads through the API to a real worker whose jobs hold
until the test releases them, and reads the order they ran in from the job registry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import redis

from aibox import app, keys
from aibox.errors import QueueLimitError
from aibox.fairness import FairQueues, Layout, refill_for
from aibox.queues import PROCESS_FILE_TASK
from aibox.services import file_store, job_registry
from aibox.settings import get_settings
from tests.monitoring.support import (
    V1,
    broker_client,
    corrupt_pdf,
    upload,
    wait_state,
    wait_until_done,
)
from tests.support import HeldWorker, wait_for

#: Not one of aibox's queues: no worker ever consumes it.
QUEUE = "fairness_test"


@pytest.fixture
def fair(redis_client: Any) -> Iterator[FairQueues]:
    with broker_client() as client:
        yield FairQueues(client, Layout(), ready_jobs=1)


def message(job_id: str) -> str:
    return json.dumps({"headers": {"id": job_id}, "properties": {"priority": 0}})


def take_all(client: redis.Redis, fair: FairQueues) -> list[str]:
    """Pop the queue as a worker would (BRPOP from the right), refilling after each take."""
    taken = []
    while found := client.brpop(fair.layout.lanes(QUEUE), timeout=0.01):
        taken.append(json.loads(found[1])["headers"]["id"])
        fair.refill(QUEUE)
    return taken


def test_users_are_served_in_turn_and_a_user_with_nothing_queued_goes_first(
    fair: FairQueues,
) -> None:
    client = fair.client
    fair.push(QUEUE, "alice", message("a1"), "first")
    for n in range(2, 6):
        fair.push(QUEUE, "alice", message(f"a{n}"), "back")
    # The queue holds one ready message; alice's others wait for her turn.
    assert sum(client.llen(lane) for lane in fair.layout.lanes(QUEUE)) == 1
    assert client.llen(keys.fair_waiting(QUEUE, "alice")) == 4
    fair.push(QUEUE, "bob", message("b1"), "first")  # bob had nothing queued: runs next
    fair.push(QUEUE, "bob", message("b2"), "back")
    fair.push(QUEUE, "carol", message("c1"), "first")
    fair.push(QUEUE, "carol", message("c2"), "back")
    fair.push(QUEUE, "alice", message("a0"), "front")  # a re-submission: first of hers
    assert client.lrange(keys.fair_ring(QUEUE), 0, -1) == [b"alice", b"bob", b"carol"]

    order = take_all(client, fair)

    assert order == ["a1", "b1", "c1", "a0", "b2", "c2", "a2", "a3", "a4", "a5"]
    assert not client.exists(keys.fair_ring(QUEUE), *(keys.fair_waiting(QUEUE, u) for u in "abc"))


def test_a_refill_fills_the_queue_up_to_ready_jobs(redis_client: Any) -> None:
    with broker_client() as client:
        fair = FairQueues(client, Layout(), ready_jobs=3)
        for n in range(5):
            fair.push(QUEUE, "alice", message(f"a{n}"), "back")
        fair.push(QUEUE, "bob", message("b0"), "back")
        lane = fair.layout.lanes(QUEUE)[-1]
        assert [json.loads(m)["headers"]["id"] for m in client.lrange(lane, 0, -1)] == [
            "a2",
            "a1",
            "a0",
        ]
        # bob joined the ring behind alice (its tail is the user served last): her turn, then his.
        for expected in ("a3", "b0", "a4"):
            client.rpop(lane)
            assert fair.refill(QUEUE) == 1
            assert json.loads(client.lindex(lane, 0))["headers"]["id"] == expected
        assert fair.refill(QUEUE) == 0  # full again


def test_with_fair_scheduling_off_a_workers_refill_releases_everything_still_waiting(
    fair: FairQueues, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        fair.push(QUEUE, "alice", message(f"a{n}"), "back")
    fair.push(QUEUE, "bob", message("b0"), "back")
    monkeypatch.setattr(get_settings(), "fair_scheduling", False)
    with app.connection_for_write() as connection:
        # What FairRefill's timer calls with the worker's consumer (only its channel is used).
        consumer = SimpleNamespace(task_consumer=SimpleNamespace(channel=connection.channel()))
        refill_for(consumer, [QUEUE])
    assert take_all(fair.client, fair) == ["a0", "a1", "b0", "a2"]


def test_the_registry_counts_each_users_queued_jobs_and_refuses_past_the_limit(
    redis_client: Any,
) -> None:
    registry = job_registry()
    task, fp, kg = PROCESS_FILE_TASK, "file_processing", "kg_extraction"
    registry.published("j1", task=task, queue=fp, file_id="f1", user_id="alice")
    registry.published("j2", task=task, queue=kg, file_id="f2", user_id="alice")
    registry.published("j3", task=task, queue=fp, file_id="f3", user_id="bob")
    assert registry.queued_of_user("alice") == 2
    assert registry.queued_of_user("alice", fp) == 1
    registry.started("j1", queue=fp, task=task, worker="w")
    assert registry.queued_of_user("alice") == 1
    registry.failed("j1", queue=fp, error="boom", traceback=None)
    assert registry.requeue("j1") is not None  # a retry is queued again
    assert [(u.user_id, u.queued) for u in registry.queued_by_user(fp)] == [
        ("bob", 1),  # waiting since before alice's retry
        ("alice", 1),
    ]

    claim = {"task": task, "queue": fp, "user_id": "alice", "args": [], "kwargs": {}}
    with pytest.raises(QueueLimitError) as refused:
        registry.claim("j4", file_id="f4", limit=2, retry_after_s=7, **claim)
    assert refused.value.status == 429
    assert refused.value.headers == {"Retry-After": "7"}
    assert "you have 2 jobs queued" in str(refused.value)
    assert registry.get("j4") is None  # nothing written
    assert registry.claim("j4", file_id="f4", limit=3, **claim) is None
    assert registry.queued_of_user("alice") == 3
    registry.revoke_queued("j4")
    assert registry.queued_of_user("alice") == 2
    assert redis_client.smembers(keys.queued_users(kg)) == {"alice"}
    registry.finished("j2", queue=kg)
    assert not redis_client.exists(keys.queued_users(kg))


def _upload_many(client: Any, prefix: str, count: int) -> list[str]:
    """One request with ``count`` distinct text files; their job ids, in order."""
    parts = [
        (
            "files",
            (f"{prefix}{n}.txt", f"{prefix} document {n}: Ada Lovelace.".encode(), "text/plain"),
        )
        for n in range(count)
    ]
    response = client.post(f"{V1}/files", files=parts)
    assert response.status_code == 202, response.text
    return [f["job_id"] for f in response.json()["data"]["files"]]


def test_a_users_first_job_runs_before_another_users_backlog_and_users_take_turns(
    make_client: Any, held_worker: HeldWorker
) -> None:
    carol, alice, bob = make_client("carol"), make_client("alice"), make_client("bob")
    admin = make_client("root", role="admin")
    dave = make_client("dave")
    broken = dave.post(f"{V1}/files", files={"file": ("d.pdf", corrupt_pdf(), "application/pdf")})
    d1 = broken.json()["data"]["job_id"]
    assert wait_state(d1, {"failed"}) == "failed"  # it fails before it embeds anything
    [c1] = _upload_many(carol, "c", 1)
    held_worker.wait_running()  # carol's job holds the worker's one pool process
    a = _upload_many(alice, "a", 6)
    b = _upload_many(bob, "b", 2)

    # While alice's backlog is queued, the admin sees who waits for what.
    users = admin.get(f"{V1}/queues/users").json()["data"]
    assert [(u["user_id"], u["queue"], u["queued"]) for u in users["users"]] == [
        ("alice", "file_processing", 6),
        ("bob", "file_processing", 2),
    ]
    stats = admin.get(f"{V1}/queues/file_processing/stats").json()["data"]
    assert stats["queued"] == 8  # the queue's own lists and the users' waiting lists
    retried = admin.post(f"{V1}/jobs/{d1}/retry")  # dave has nothing else queued
    assert retried.status_code == 200, retried.text
    metrics = admin.get("/metrics").text
    assert 'aibox_user_queued_jobs{queue="file_processing",user="alice"} 6.0' in metrics
    assert 'aibox_user_oldest_queued_seconds{queue="file_processing",user="bob"}' in metrics

    held_worker.release()
    jobs = [c1, *a, *b]
    registry = job_registry()
    wait_for(lambda: all(registry.get(j).state == "finished" for j in jobs), timeout=120)
    assert wait_state(d1, {"failed"}) == "failed"
    jobs.append(d1)
    names = {c1: "c1", d1: "d1", **{j: f"a{n + 1}" for n, j in enumerate(a)}}
    names.update({j: f"b{n + 1}" for n, j in enumerate(b)})
    order = sorted(jobs, key=lambda j: registry.get(j).started_at)
    # First in, first out would run c1, a1..a6, b1, b2, d1. Here bob's first job (he had
    # nothing queued) runs as soon as the worker is free after alice's (hers too was a first),
    # and so does the admin's retry of dave's job; then alice and bob take turns.
    expected = ["c1", "a1", "b1", "d1", "a2", "b2", "a3", "a4", "a5", "a6"]
    assert [names[j] for j in order] == expected


def test_past_the_limit_uploads_and_regenerations_answer_429(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = upload(api, "done.txt", b"Grace Hopper wrote the first compiler.")
    wait_until_done(api, done["file_id"])
    monkeypatch.setattr(get_settings(), "max_queued_jobs_per_user", 3)
    registry = job_registry()
    # The user has 3 jobs queued: recorded as a publisher records them (no message exists,
    # so no worker runs them while the test looks).
    for n in range(3):
        registry.published(
            f"queued-{n}",
            task=PROCESS_FILE_TASK,
            queue="kg_extraction",
            file_id=None,
            user_id="local",
        )

    regenerate = api.post(f"{V1}/files/{done['file_id']}/regenerate", json={"type": "graph"})
    assert regenerate.status_code == 429, regenerate.text
    assert regenerate.headers["Retry-After"] == "60"
    body = regenerate.json()
    assert body["code"] == "too_many_queued_jobs"
    assert "you have 3 jobs queued, the most one user may have is 3" in body["message"]
    single = api.post(f"{V1}/files", files={"file": ("new.txt", b"new text", "text/plain")})
    assert single.status_code == 429
    assert single.headers["Retry-After"] == "60"
    assert len(file_store().list_for_user("local")) == 1  # nothing stored

    # One slot free: of two files, the first is queued and the second refused, not stored.
    registry.revoke_queued("queued-0")
    parts = [("files", (f"f{n}.txt", f"file {n}".encode(), "text/plain")) for n in range(2)]
    both = api.post(f"{V1}/files", files=parts)
    assert both.status_code == 207, both.text
    assert both.headers["Retry-After"] == "60"
    files = both.json()["data"]["files"]
    assert [f["status"] for f in files] == ["queued", "rejected"]
    assert files[1]["error"]["status"] == 429
    assert files[1]["file_id"] is None
    assert len(file_store().list_for_user("local")) == 2
