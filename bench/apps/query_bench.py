"""Scenario 4 in one process on a private server: search and graph queries on loaded data.

``python -m bench.apps.query_bench CHUNKS ENTITIES QUERIES ROUNDS``. Loads CHUNKS chunks of
real text (the ingestion corpus's documents, parsed and chunked as aibox does, reused in turn
when CHUNKS exceeds them) in files of 1,000: their texts, full-text postings
(``FullTextIndex.replace``) and random unit vectors (384-d, the hashing and MiniLM size,
``VectorIndex.add``); and a graph of ENTITIES entities through ``GraphStore.replace_file``.
Then times, alternating query by query: ``aibox.search.find`` (k=10, what the API calls) in
the fulltext and hybrid modes (hybrid also with the vector ranking fused at weight 0.25, a
model embedder's default) on phrases and word bags taken from the chunks,
``VectorIndex.search`` (k=10) against a bare ``VSIM`` command (the limit), and
``GraphQueries.neighbors`` (one hop, limit 50) against one bare anchored Cypher query.
Prints the per-round p50/p99 in JSON, and the server memory the full-text index took.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from aibox import keys, processing
from aibox.connections import get_redis
from aibox.pipeline.chunking import chunk_document
from aibox.pipeline.parsers import parse_file
from aibox.pipeline.terms import file_terms
from aibox.pipeline.types import Chunk, Entity, GraphExtraction, Mention, Relation
from aibox.search import find
from aibox.services import (
    chunk_store,
    file_store,
    fulltext_index,
    graph_queries,
    graph_store,
    vector_index,
)
from aibox.settings import get_settings
from aibox.store.graph import entity_id
from bench.common import percentile
from bench.corpus import file_type, select

USER = "bench"
DIM = 384
PER_FILE = 1000
TYPES = ("PERSON", "ORGANIZATION", "LOCATION", "PRODUCT")
RELATIONS = ("RELATED_TO", "WORKS_FOR", "LOCATED_IN", "FOUNDED")


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def text_pool() -> list[str]:
    """Chunk texts of the ingestion corpus (full mode's documents), as aibox chunks them."""
    settings = get_settings()
    files, _ = select("full")
    pool = []
    for path in files:
        document = parse_file(path, file_type(path))
        chunks = chunk_document(
            document,
            size_chars=settings.chunk_size_chars,
            overlap_chars=settings.chunk_overlap_chars,
        )
        pool += [c.text for c in chunks]
    if not pool:
        raise SystemExit("no corpus for the query benchmark: apt-get install python3.11-doc")
    return pool


def load_chunks(n: int, pool: list[str]) -> dict[str, float]:
    """Files of PER_FILE chunks: records, texts, full-text postings and random vectors."""
    rng = np.random.default_rng(7)
    client = get_redis()
    embedder_id = processing.embedder().id
    files, chunks, fulltext, vectors = file_store(), chunk_store(), fulltext_index(), vector_index()
    seconds = {"vectors": 0.0, "fulltext": 0.0}
    fulltext_bytes = 0
    for f, first in enumerate(range(0, n, PER_FILE)):
        count = min(PER_FILE, n - first)
        record = files.save_upload(
            iter([f"file {f}".encode()]),
            user_id=USER,
            filename=f"file-{f}.txt",
            file_type="txt",
            content_type=None,
            max_bytes=1024,
        )
        texts = [pool[(first + i) % len(pool)] for i in range(count)]
        file_chunks = [Chunk(i, text, 0, len(text)) for i, text in enumerate(texts)]
        chunks.replace(record.file_id, file_chunks)
        memory_before = int(client.info("memory")["used_memory"])
        start = time.perf_counter()
        fulltext.replace(USER, record.file_id, file_terms(file_chunks))
        seconds["fulltext"] += time.perf_counter() - start
        fulltext_bytes += int(client.info("memory")["used_memory"]) - memory_before
        start = time.perf_counter()
        vectors.add(USER, embedder_id, record.file_id, 0, _unit(rng, count))
        vectors.record_embedder(USER, record.file_id, embedder_id)
        seconds["vectors"] += time.perf_counter() - start
    seconds["fulltext_bytes_per_chunk"] = fulltext_bytes / n
    return seconds


def queries_from(pool: list[str], n: int) -> list[str]:
    """Phrases (6–12 words or 10–20 characters) and 4-word bags from random chunks."""
    rnd = random.Random(5)
    out = []
    while len(out) < n:
        text = rnd.choice(pool)
        words = text.split()
        if len(words) >= 20:  # English (or mixed) text
            first = rnd.randrange(len(words) - 12)
            if len(out) % 2:
                out.append(" ".join(rnd.sample(words, 4)))
            else:
                out.append(" ".join(words[first : first + rnd.randint(6, 12)]))
        elif len(text) > 40:  # Chinese: a stretch of characters
            first = rnd.randrange(len(text) - 20)
            out.append(text[first : first + rnd.randint(10, 20)])
    return out


def load_graph(n: int) -> float:
    """Files of 1000 entities; each entity has about 3 relations to others in its file."""
    rnd = random.Random(7)
    store = graph_store()
    start = time.perf_counter()
    for f, first in enumerate(range(0, n, PER_FILE)):
        names = [f"entity {i}" for i in range(first, min(first + PER_FILE, n))]
        entities = [Entity(name, name, TYPES[i % len(TYPES)]) for i, name in enumerate(names)]
        mentions = [Mention(e.key, i // 10, 0, len(e.name)) for i, e in enumerate(entities)]
        relations = [
            Relation(
                e.key,
                rnd.choice(names),
                rnd.choice(RELATIONS),
                i // 10,
                f"{e.name} …",
                rnd.random(),
            )
            for i, e in enumerate(entities)
            for _ in range(3)
        ]
        relations = [r for r in relations if r.source_key != r.target_key]
        store.replace_file(
            USER, f"{f:032x}", GraphExtraction(entities, mentions, relations), run_id="bench"
        )
    return time.perf_counter() - start


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    chunks, entities, queries, rounds = (int(x) for x in sys.argv[1:5])
    client = get_redis()
    out: dict[str, Any] = {"chunks": chunks, "entities": entities, "queries": queries}
    pool = text_pool()
    loaded = load_chunks(chunks, pool)
    out["vector_load_s"] = loaded["vectors"]
    out["fulltext_load_s"] = loaded["fulltext"]
    out["fulltext_bytes_per_chunk"] = loaded["fulltext_bytes_per_chunk"]
    out["graph_load_s"] = load_graph(entities) if entities else 0.0
    index, graphs = vector_index(), graph_queries()
    embedder_id = processing.embedder().id
    vset = keys.vector_set(USER, embedder_id)
    texts = queries_from(pool, queries)
    graph = graph_store().graph(USER)
    rng = np.random.default_rng(11)
    rnd = random.Random(11)
    series: dict[str, list[dict[str, float]]] = {
        k: []
        for k in ("hybrid", "hybrid_vectors", "fulltext", "search", "vsim", "neighbors", "cypher")
    }
    settings = get_settings()
    for _ in range(rounds):
        times: dict[str, list[float]] = {k: [] for k in series}
        for vector, text in zip(_unit(rng, queries), texts, strict=True):
            times["hybrid"].append(_timed(lambda t=text: find(USER, t, 10, mode="hybrid")))
            settings.search_vector_weight = 0.25  # a model embedder's default: vectors fused
            times["hybrid_vectors"].append(_timed(lambda t=text: find(USER, t, 10, mode="hybrid")))
            settings.search_vector_weight = None
            times["fulltext"].append(_timed(lambda t=text: find(USER, t, 10, mode="fulltext")))
            times["search"].append(_timed(lambda v=vector: index.search(USER, embedder_id, v, 10)))
            blob = vector.tobytes()
            times["vsim"].append(
                _timed(
                    lambda b=blob: client.execute_command(
                        "VSIM", vset, "FP32", b, "WITHSCORES", "COUNT", 10
                    )
                )
            )
            if entities:
                eid = entity_id(f"entity {rnd.randrange(entities)}")
                times["neighbors"].append(_timed(lambda e=eid: graphs.neighbors(USER, e, limit=50)))
                times["cypher"].append(
                    _timed(
                        lambda e=eid: graph.ro_query(
                            "MATCH (a:Entity {id: $id})-[r]-(b:Entity) "
                            "WHERE type(r) <> 'MENTIONED_IN' RETURN b.id, type(r) LIMIT 50",
                            {"id": e},
                        )
                    )
                )
        for k, values in times.items():
            if values:
                series[k].append(
                    {"p50_ms": percentile(values, 50), "p99_ms": percentile(values, 99)}
                )
    out["rounds"] = {k: v for k, v in series.items() if v}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
