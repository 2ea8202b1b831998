"""Deleting files: exactly their data goes, shared entities stay, running jobs are stopped."""

from __future__ import annotations

import redis
from fastapi.testclient import TestClient

from aibox import keys, processing
from aibox.services import file_store, graph_store, job_registry
from aibox.settings import get_settings
from tests.api.test_files_e2e import DATA, upload, wait_until_done
from tests.support import HeldWorker, wait_for

USER = "local"
SECOND = b"""# Apple today

Tim Cook leads Apple Inc. from Cupertino. Apple partnered with IBM in 2014.
Apple acquired Beats Electronics in 2014.
"""


def leftovers(client: redis.Redis, file_id: str) -> dict[str, object]:
    """Everything a file could have left behind, by kind (empty when it left nothing)."""
    vset = keys.vector_set(USER, processing.embedder().id)
    elements = client.vset().vrandmember(vset, 100000) if client.exists(vset) else []
    graph = graph_store().graph(USER)
    found: dict[str, object] = {
        "vectors": [e for e in elements or [] if str(e).startswith(f"{file_id}:")],
        "chunks": client.exists(keys.chunks(file_id)),
        "status": client.exists(keys.processing_status(file_id), keys.upload_progress(file_id)),
        "record": client.exists(keys.file_record(file_id)),
        "in_user_index": client.zscore(keys.user_files(USER), file_id) is not None,
        "embedder_index": client.hexists(keys.user_file_embedders(USER), file_id),
        "job_index": client.exists(keys.file_jobs(file_id)),
        "document": graph.ro_query(
            "MATCH (d:Document {file_id: $f}) RETURN count(d)", {"f": file_id}
        ).result_set[0][0],
        "relations": graph.ro_query(
            "MATCH ()-[r]->() WHERE r.file_id = $f RETURN count(r)", {"f": file_id}
        ).result_set[0][0],
        "bytes": (get_settings().storage_path / USER / file_id).exists(),
        "fulltext_file": client.hexists(keys.fulltext_files(USER), file_id)
        or client.exists(keys.fulltext_file_terms(USER, file_id)),
        "fulltext_postings": orphan_postings(client),
    }
    return {k: v for k, v in found.items() if v}


def orphan_postings(client: redis.Redis) -> list[str]:
    """Full-text postings of files the index no longer knows (a deleted file's)."""
    live = set(client.hkeys(keys.fulltext_refs(USER)))
    return [
        f"{key} {ref}"
        for key in client.scan_iter(match=keys.fulltext_postings(USER, "*"))
        for ref in client.hkeys(key)
        if ref not in live
    ]


def test_deleting_one_of_two_files_keeps_shared_entities(
    api: TestClient, redis_client: redis.Redis
) -> None:
    first = upload(api, "english.md", (DATA / "english.md").read_bytes())
    second = upload(api, "apple.md", SECOND)
    for f in (first, second):
        assert wait_until_done(api, f["file_id"])["status"] == "completed"
    second_triples = api.get(f"/api/v1/files/{second['file_id']}/graph").json()["data"]
    assert second_triples
    response = api.delete(f"/api/v1/files/{first['file_id']}")
    assert response.status_code == 200, response.text
    assert response.json()["data"]["chunks"] >= 1
    assert leftovers(redis_client, first["file_id"]) == {}
    assert api.get(f"/api/v1/files/{first['file_id']}").status_code == 404
    assert api.delete(f"/api/v1/files/{first['file_id']}").status_code == 404
    # Apple is mentioned by both: it stays, with the second file's relations and no others.
    apple = next(
        e
        for e in api.get("/api/v1/graph/entities", params={"q": "apple"}).json()["data"]
        if e["name"].startswith("Apple")
    )
    assert apple["files"] == 1
    around = api.get(f"/api/v1/graph/entities/{apple['id']}/neighbors").json()["data"]
    assert around
    assert {t["file_id"] for t in around} == {second["file_id"]}
    assert api.get(f"/api/v1/files/{second['file_id']}/graph").json()["data"] == second_triples
    # Entities only the deleted file mentioned are gone.
    assert api.get("/api/v1/graph/entities", params={"q": "wanstrath"}).json()["data"] == []
    hits = api.post("/api/v1/search", json={"query": "Microsoft acquired GitHub"}).json()["data"]
    assert {h["file_id"] for h in hits} == {second["file_id"]}


def test_deleting_a_file_while_its_job_runs_stops_it_and_leaves_nothing(
    api: TestClient, redis_client: redis.Redis, held_worker: HeldWorker
) -> None:
    running = upload(api, "held.md", SECOND)
    held_worker.wait_running()  # started, chunked, held inside its embedding request
    response = api.delete(f"/api/v1/files/{running['file_id']}")
    assert response.status_code == 200
    assert response.json()["data"]["revoked_jobs"] == [running["job_id"]]
    job = wait_for(
        lambda: (j := job_registry().get(running["job_id"])) and j.state != "started" and j,
        timeout=30,
    )
    assert job.state in {"revoked", "failed"}
    assert wait_for(lambda: leftovers(redis_client, running["file_id"]) == {}, timeout=10)
    # The worker survives and serves the next job.
    held_worker.release()
    after = upload(api, "next.md", b"# Next\n\nGrace Hopper worked at Harvard University.\n")
    assert wait_until_done(api, after["file_id"])["status"] == "completed"
    assert job_registry().get(after["job_id"]).worker == held_worker.node  # type: ignore[union-attr]
    assert file_store().get(running["file_id"]) is None
