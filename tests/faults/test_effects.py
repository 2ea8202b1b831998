"""A real document job whose whole worker is killed mid-run: redelivered, and its effects
are those of one clean run — one vector per chunk, the same chunks, the same relations.

"Once" is judged on what the job wrote, not on task states: the first, killed execution had
already written part of the chunks, vectors and relations when it died.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from aibox import keys, processing
from aibox.celery_app import app as celery_app
from aibox.services import graph_store, job_registry
from aibox.settings import get_settings
from tests.api.test_files_e2e import upload, wait_until_done
from tests.support import stop_process, wait_for

pytestmark = pytest.mark.slow

USER = "local"
QUEUE = "file_processing"
settings = get_settings()
BOUND_S = (
    settings.visibility_timeout_s + settings.restore_sweep_interval_s + settings.lease_interval_s
)


def effects(client: redis.Redis, file_id: str) -> dict[str, Any]:
    """What the file's jobs wrote: its vector ids, chunk count, relations and entity mentions."""
    vset = keys.vector_set(USER, processing.embedder().id)
    members = client.vset().vrandmember(vset, 10_000_000) if client.exists(vset) else []
    graph = graph_store().graph(USER)
    relations = graph.ro_query(
        "MATCH (a)-[r]->(b) WHERE r.file_id = $f "
        "RETURN a.key, type(r), b.key, r.chunk ORDER BY a.key, type(r), b.key, r.chunk",
        {"f": file_id},
    ).result_set
    return {
        "vectors": sorted(str(m) for m in members or [] if str(m).startswith(f"{file_id}:")),
        "chunks": int(client.hlen(keys.chunks(file_id))),
        "relations": [tuple(row) for row in relations],
    }


def document(sentences: int) -> bytes:
    names = "Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia".split()
    places = "Paris Berlin Tokyo Madrid Oslo Lima Cairo Delhi".split()
    rng = random.Random(11)
    text = " ".join(
        f"{rng.choice(names)} met {rng.choice(names)} in {rng.choice(places)} about report {i}."
        for i in range(sentences)
    )
    return text.encode()


@pytest.fixture
def session_worker_paused() -> Iterator[str]:
    """The session worker stops consuming ``file_processing`` for the test, then resumes."""
    (node,) = [n for reply in celery_app.control.ping(timeout=1) for n in reply if "session-" in n]
    celery_app.control.cancel_consumer(QUEUE, destination=[node], reply=True)
    try:
        yield node
    finally:
        celery_app.control.add_consumer(QUEUE, destination=[node], reply=True)


def test_killed_worker_mid_document_leaves_the_effects_of_one_run(
    api: TestClient,
    redis_client: redis.Redis,
    start_worker: Callable[..., Any],
    session_worker_paused: str,
) -> None:
    node = session_worker_paused
    # A clean run first (on a worker of our own: the session worker is paused for this queue).
    clean, log, _ = start_worker("effects-clean", (QUEUE,))
    try:
        file = upload(api, "meetings.txt", document(12000))
        assert wait_until_done(api, file["file_id"], timeout=300)["status"] == "completed"
    finally:
        stop_process(clean)
        log.close()
    baseline = effects(redis_client, file["file_id"])
    assert baseline["chunks"] > 50
    one_per_chunk = sorted(f"{file['file_id']}:{i}" for i in range(baseline["chunks"]))
    assert baseline["vectors"] == one_per_chunk
    assert baseline["relations"]

    # The same work again, on a worker killed outright (main process and pool) mid-run.
    victim, log, victim_node = start_worker("effects-victim", (QUEUE,), concurrency=1)
    try:
        response = api.post(
            f"/api/v1/files/{file['file_id']}/regenerate",
            json={"type": "full", "force_rechunk": True},
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["data"]["job_id"]

        def half_way() -> bool:
            job = job_registry().get(job_id)
            status = api.get(f"/api/v1/files/{file['file_id']}/status").json()["data"]
            return job is not None and job.worker == victim_node and status["progress"] >= 30

        wait_for(half_way, timeout=120, interval=0.05)
        children = subprocess.run(
            ["pgrep", "-P", str(victim.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        victim.kill()
        for child in children:
            os.kill(int(child), signal.SIGKILL)
        victim.wait()
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
        log.close()

    # Nobody renews its lease now: the session worker gets it back within the bound.
    celery_app.control.add_consumer(QUEUE, destination=[node], reply=True)
    job = wait_for(
        lambda: (j := job_registry().get(job_id)) and j.state in {"finished", "failed"} and j,
        timeout=BOUND_S + 300,
        interval=0.5,
    )
    assert job.state == "finished", job.error
    assert job.worker == node
    assert effects(redis_client, file["file_id"]) == baseline
