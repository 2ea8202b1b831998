"""Search, chunks and graph endpoints on files processed by the real worker."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from aibox.services import vector_index
from aibox.settings import get_settings
from tests.api.test_files_e2e import DATA, upload, wait_until_done


def processed(api: TestClient, name: str, content: bytes | None = None) -> dict[str, Any]:
    submitted = upload(api, name, content if content is not None else (DATA / name).read_bytes())
    assert wait_until_done(api, submitted["file_id"])["status"] == "completed"
    return submitted


def search(api: TestClient, **body: Any) -> list[dict[str, Any]]:
    response = api.post("/api/v1/search", json=body)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def test_search_finds_the_passage_and_scopes_to_files(api: TestClient) -> None:
    english = processed(api, "english.md")
    chinese = processed(api, "traditional.txt")
    hits = search(api, query="Microsoft acquired GitHub", k=3)
    assert hits, "no hits"
    top = hits[0]
    assert top["file_id"] == english["file_id"]
    assert top["filename"] == "english.md"
    assert "Microsoft acquired GitHub" in top["text"]
    source = (DATA / "english.md").read_text(encoding="utf-8")
    assert source[top["start"] : top["end"]] == top["text"]
    assert top["score"] > 0
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    chinese_hits = search(api, query="鴻海在2016年收購了夏普公司", k=3)
    assert chinese_hits[0]["file_id"] == chinese["file_id"]
    # Scoped to a file that shares no word with the query: full text finds nothing there,
    # vectors still rank its chunks; neither strays into the other file.
    scoped = search(api, query="Microsoft acquired GitHub", k=5, file_ids=[chinese["file_id"]])
    assert scoped == []
    for mode in ("vector", "fulltext"):
        query = "鴻海 GitHub"
        scoped = search(api, query=query, k=5, mode=mode, file_ids=[chinese["file_id"]])
        assert scoped, mode
        assert {h["file_id"] for h in scoped} == {chinese["file_id"]}, mode
    vector = search(api, query="Microsoft acquired GitHub", k=3, mode="vector")
    assert all(0 < h["score"] <= 1 for h in vector)


def test_search_refuses_files_of_others_and_bad_bodies(api: TestClient) -> None:
    response = api.post("/api/v1/search", json={"query": "x", "file_ids": ["not-mine"]})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    for body in ({"query": ""}, {"query": "x", "k": 0}, {"query": "x", "k": 1000}, {}):
        response = api.post("/api/v1/search", json=body)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_error"


def test_search_refuses_to_mix_embedders(
    api: TestClient, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    processed(api, "english.md")
    # A file indexed under another embedder (as after changing AIBOX_EMBEDDER).
    vector_index().record_embedder("local", "some-old-file", "openai-some-model-768")
    # Hybrid search with the hashing embedder leaves vectors out (weight 0): it answers.
    assert api.post("/api/v1/search", json={"query": "Apple"}).status_code == 200
    monkeypatch.setattr(get_settings(), "search_vector_weight", 0.25)
    for body in ({"query": "Apple"}, {"query": "Apple", "mode": "vector"}):
        response = api.post("/api/v1/search", json=body)
        assert response.status_code == 409, body
    response = api.post("/api/v1/search", json={"query": "Apple", "mode": "vector"})
    body = response.json()
    assert body["code"] == "embedder_mismatch"
    assert "openai-some-model-768" in body["message"]
    assert "re-vectorize" in body["message"]


def test_chunks_endpoint_pages_through_the_document(api: TestClient) -> None:
    english = processed(api, "english.md")
    status = api.get(f"/api/v1/files/{english['file_id']}/status").json()["data"]
    count = status["chunking"]["chunk_count"]
    chunks = api.get(f"/api/v1/files/{english['file_id']}/chunks").json()["data"]
    assert [c["index"] for c in chunks] == list(range(count))
    source = (DATA / "english.md").read_text(encoding="utf-8")
    for chunk in chunks:
        assert source[chunk["start"] : chunk["end"]] == chunk["text"]
    window = api.get(f"/api/v1/files/{english['file_id']}/chunks?offset=1&limit=1").json()
    assert [c["index"] for c in window["data"]] == ([1] if count > 1 else [])
    assert api.get("/api/v1/files/nope/chunks").status_code == 404


def test_file_graph_entities_and_neighbors(api: TestClient) -> None:
    english = processed(api, "english.md")
    triples = api.get(f"/api/v1/files/{english['file_id']}/graph").json()["data"]
    founded = [t for t in triples if t["type"] == "FOUNDED"]
    assert any(
        t["source"]["name"] == "Steve Jobs" and t["target"]["name"].startswith("Apple")
        for t in founded
    ), founded
    for t in triples:
        assert t["file_id"] == english["file_id"]
        assert t["evidence"]
        assert 0 <= t["confidence"] <= 1
    entities = api.get("/api/v1/graph/entities", params={"q": "apple"}).json()["data"]
    apple = next(e for e in entities if e["name"].startswith("Apple"))
    assert apple["type"] == "ORGANIZATION"
    assert apple["files"] == 1
    around = api.get(f"/api/v1/graph/entities/{apple['id']}/neighbors").json()["data"]
    assert around
    assert all(apple["id"] in (t["source"]["id"], t["target"]["id"]) for t in around)
    assert any(t["type"] == "FOUNDED" and t["target"]["id"] == apple["id"] for t in around)
    response = api.get("/api/v1/graph/entities/0000000000000000/neighbors")
    assert response.status_code == 404


def test_entity_search_merges_traditional_and_simplified(api: TestClient) -> None:
    processed(api, "traditional.txt")
    simplified = api.get("/api/v1/graph/entities", params={"q": "台积电"}).json()["data"]
    traditional = api.get("/api/v1/graph/entities", params={"q": "台積電"}).json()["data"]
    assert simplified
    assert simplified == traditional


def test_user_input_never_becomes_cypher(api: TestClient) -> None:
    processed(api, "english.md")
    hostile = "') MATCH (n) DETACH DELETE n //"
    response = api.get("/api/v1/graph/entities", params={"q": hostile})
    assert response.status_code == 200
    assert response.json()["data"] == []
    entities = api.get("/api/v1/graph/entities", params={"q": "apple"}).json()["data"]
    assert entities, "the graph must still be there"


def test_each_mode_says_which_ranking_found_each_hit(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    english = processed(api, "english.md")
    processed(api, "traditional.txt")
    query = "Microsoft acquired GitHub"
    fulltext = search(api, query=query, k=3, mode="fulltext")
    assert fulltext[0]["file_id"] == english["file_id"]
    assert "Microsoft acquired GitHub" in fulltext[0]["text"]
    assert all(set(h["found_by"]) == {"fulltext"} for h in fulltext)
    assert fulltext[0]["found_by"]["fulltext"] == {"rank": 1, "score": fulltext[0]["score"]}
    # Only the English chunks hold these words: the Chinese file is not a full-text hit.
    assert {h["file_id"] for h in fulltext} == {english["file_id"]}
    vector = search(api, query=query, k=3, mode="vector")
    assert all(set(h["found_by"]) == {"vector"} for h in vector)
    assert all(0 < h["score"] <= 1 for h in vector)
    # With the hashing embedder, hybrid search is full text alone (vector weight 0).
    assert search(api, query=query, k=3) == fulltext
    monkeypatch.setattr(get_settings(), "search_vector_weight", 0.25)
    hybrid = search(api, query=query, k=3)
    assert hybrid[0]["file_id"] == english["file_id"]
    assert set(hybrid[0]["found_by"]) == {"fulltext", "vector"}
    assert [h["score"] for h in hybrid] == sorted((h["score"] for h in hybrid), reverse=True)
    response = api.post("/api/v1/search", json={"query": query, "mode": "semantic"})
    assert response.status_code == 422


def test_full_text_finds_traditional_text_from_simplified_queries(api: TestClient) -> None:
    chinese = processed(api, "traditional.txt")
    for query in ("台积电总部", "鸿海收购夏普", "中央研究院"):
        hits = search(api, query=query, k=1, mode="fulltext")
        assert hits, query
        assert hits[0]["file_id"] == chinese["file_id"]
    hits = search(api, query="鸿海收购夏普", k=1, mode="fulltext")
    assert "鴻海在2016年收購了夏普公司" in hits[0]["text"]


def test_graph_adds_the_named_entities_their_relations_and_chunks(api: TestClient) -> None:
    english = processed(api, "english.md")
    processed(api, "traditional.txt")
    response = api.post("/api/v1/search", json={"query": "who founded apple", "graph": True})
    assert response.status_code == 200, response.text
    body = response.json()
    names = {e["name"] for e in body["graph"]["entities"]}
    assert any(name.startswith("Apple") for name in names), names
    founded = [r for r in body["graph"]["relations"] if r["type"] == "FOUNDED"]
    assert any(r["source"]["name"] == "Steve Jobs" for r in founded), founded
    assert all(r["evidence"] for r in body["graph"]["relations"])
    graph_hits = [h for h in body["data"] if "graph" in h["found_by"]]
    assert graph_hits
    assert all(h["file_id"] == english["file_id"] for h in graph_hits)
    # Without graph there is no context and no graph ranking.
    plain = api.post("/api/v1/search", json={"query": "who founded apple"}).json()
    assert plain["graph"] is None
    assert all("graph" not in h["found_by"] for h in plain["data"])
    # A Chinese query names its entities in either script.
    chinese = api.post("/api/v1/search", json={"query": "台积电的董事长", "graph": True}).json()
    assert any("台積電" in e["name"] for e in chinese["graph"]["entities"])


def test_entity_chunks_lists_where_an_entity_is_mentioned(
    api: TestClient, make_client: Any
) -> None:
    english = processed(api, "english.md")
    apple = next(
        e
        for e in api.get("/api/v1/graph/entities", params={"q": "apple"}).json()["data"]
        if e["name"].startswith("Apple")
    )
    response = api.get(f"/api/v1/graph/entities/{apple['id']}/chunks")
    assert response.status_code == 200, response.text
    chunks = response.json()["data"]
    assert chunks
    assert all(c["file_id"] == english["file_id"] for c in chunks)
    assert all("Apple" in c["text"] for c in chunks)
    assert [c["index"] for c in chunks] == sorted(c["index"] for c in chunks)
    assert (
        api.get(f"/api/v1/graph/entities/{apple['id']}/chunks?limit=1").json()["data"]
        == (chunks[:1])
    )
    assert api.get("/api/v1/graph/entities/0000000000000000/chunks").status_code == 404
    # Another user's graph has no such entity.
    other = make_client("someone-else")
    assert other.get(f"/api/v1/graph/entities/{apple['id']}/chunks").status_code == 404


def test_full_text_search_works_across_embedders(
    api: TestClient, redis_client: redis.Redis
) -> None:
    english = processed(api, "english.md")
    vector_index().record_embedder("local", "some-old-file", "openai-some-model-768")
    response = api.post("/api/v1/search", json={"query": "Apple", "mode": "vector"})
    assert response.status_code == 409
    hits = search(api, query="Apple founders", mode="fulltext")
    assert hits[0]["file_id"] == english["file_id"]
