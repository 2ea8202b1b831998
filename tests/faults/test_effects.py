"""A real document job whose whole worker is killed mid-run: redelivered, and its effects
are those of one clean run — one vector per chunk, the same chunks, the same relations.

"Once" is judged on what the job wrote, not on task states: the first, killed execution had
already written its chunks and the first batch of its vectors when it died (the embedding
endpoint held it there, so it was surely running, whatever the machine's speed).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from aibox import keys
from aibox.celery_app import app as celery_app
from aibox.pipeline.embedders import space_id
from aibox.processing import EMBED_BATCH
from aibox.services import graph_store, job_registry
from tests.api.test_files_e2e import upload, wait_until_done
from tests.fakes.embeddings_server import FakeEmbeddingsServer
from tests.support import kill_whole_worker, stop_process, wait_for

pytestmark = pytest.mark.slow

USER = "local"
QUEUE = "file_processing"


def effects(client: redis.Redis, file_id: str, space: str) -> dict[str, Any]:
    """What the file's jobs wrote: its vector ids (in vector space ``space``), chunk count and
    relations."""
    vset = keys.vector_set(USER, space)
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


@pytest.fixture
def endpoint() -> Iterator[FakeEmbeddingsServer]:
    """The embedder of this test's workers: the fake OpenAI-compatible endpoint (the one
    stand-in: no such remote service exists here), which holds the job part way through."""
    with FakeEmbeddingsServer(dim=16) as server:
        yield server


def test_killed_worker_mid_document_leaves_the_effects_of_one_run(
    api: TestClient,
    redis_client: redis.Redis,
    start_worker: Callable[..., Any],
    session_worker_paused: str,
    endpoint: FakeEmbeddingsServer,
) -> None:
    embedder = endpoint.settings()
    # Leases three times tighter than the suite's, for the killed worker and its rescuer: the
    # job comes back within 5 s instead of 14.
    tight = {
        "AIBOX_VISIBILITY_TIMEOUT_S": "3",
        "AIBOX_LEASE_INTERVAL_S": "1",
        "AIBOX_RESTORE_SWEEP_INTERVAL_S": "1",
    }
    space = space_id("openai", "fake-embed", 16)
    # A clean run first (on a worker of our own: the session worker is paused for this queue).
    clean, log, _ = start_worker("effects-clean", (QUEUE,), env=embedder)
    try:
        file = upload(api, "meetings.txt", document(12000))
        assert wait_until_done(api, file["file_id"], timeout=300)["status"] == "completed"
    finally:
        stop_process(clean)
        log.close()
    baseline = effects(redis_client, file["file_id"], space)
    assert baseline["chunks"] > 2 * EMBED_BATCH  # embedded in three batches or more
    one_per_chunk = sorted(f"{file['file_id']}:{i}" for i in range(baseline["chunks"]))
    assert baseline["vectors"] == one_per_chunk
    assert baseline["relations"]

    # The same work again, on a worker killed outright (main process and pool) mid-run: held
    # by the endpoint once the first batch of vectors is written, the second one asked for.
    victim, log, victim_node = start_worker(
        "effects-victim", (QUEUE,), concurrency=1, env={**embedder, **tight}
    )
    try:
        endpoint.hold(after=EMBED_BATCH // 64)  # 64 texts per request: the first batch's
        response = api.post(
            f"/api/v1/files/{file['file_id']}/regenerate",
            json={"type": "full", "force_rechunk": True},
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["data"]["job_id"]
        endpoint.wait_held(1, timeout=120)
        job = job_registry().get(job_id)
        assert job is not None
        assert job.worker == victim_node
        status = api.get(f"/api/v1/files/{file['file_id']}/status").json()["data"]
        assert status["vectorization"]["progress"] == 100 * EMBED_BATCH // baseline["chunks"]
        kill_whole_worker(victim)
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
        log.close()
    endpoint.release()

    # Nobody renews its lease now: a worker gets it back within the bound.
    _, log, rescuer = start_worker("effects-rescuer", (QUEUE,), env={**embedder, **tight})
    try:
        job = wait_for(
            lambda: (j := job_registry().get(job_id)) and j.state in {"finished", "failed"} and j,
            timeout=120,
            interval=0.5,
        )
    finally:
        log.close()
    assert job.state == "finished", job.error
    assert job.worker == rescuer
    assert effects(redis_client, file["file_id"], space) == baseline
