"""Scenario 4 in one process on a private server: search and graph queries on loaded data.

``python -m bench.apps.query_bench CHUNKS ENTITIES QUERIES ROUNDS``. Loads CHUNKS random unit
vectors (384-d, the hashing and MiniLM size) through aibox's ``VectorIndex.add`` and a graph
of ENTITIES entities through ``GraphStore.replace_file``, then times, alternating query by
query: ``VectorIndex.search`` (k=10) against a bare ``VSIM`` command (the limit), and
``GraphQueries.neighbors`` (one hop, limit 50) against one bare anchored Cypher query.
Prints the per-round p50/p99 in JSON.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from aibox import keys
from aibox.connections import get_redis
from aibox.pipeline.graph.store import entity_id
from aibox.pipeline.types import Entity, GraphExtraction, Mention, Relation
from aibox.services import graph_queries, graph_store, vector_index
from bench.common import percentile

USER = "bench"
EMBEDDER = "bench-384"
DIM = 384
PER_FILE = 1000
TYPES = ("PERSON", "ORGANIZATION", "LOCATION", "PRODUCT")
RELATIONS = ("RELATED_TO", "WORKS_FOR", "LOCATED_IN", "FOUNDED")


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def load_vectors(n: int) -> float:
    rng = np.random.default_rng(7)
    index = vector_index()
    start = time.perf_counter()
    for f, first in enumerate(range(0, n, PER_FILE)):
        count = min(PER_FILE, n - first)
        index.add(USER, EMBEDDER, f"{f:032x}", 0, _unit(rng, count))
    return time.perf_counter() - start


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
    out["vector_load_s"] = load_vectors(chunks)
    out["graph_load_s"] = load_graph(entities) if entities else 0.0
    index, graphs = vector_index(), graph_queries()
    vset = keys.vector_set(USER, EMBEDDER)
    graph = graph_store().graph(USER)
    rng = np.random.default_rng(11)
    rnd = random.Random(11)
    series: dict[str, list[dict[str, float]]] = {
        k: [] for k in ("search", "vsim", "neighbors", "cypher")
    }
    for _ in range(rounds):
        times: dict[str, list[float]] = {k: [] for k in series}
        for vector in _unit(rng, queries):
            times["search"].append(_timed(lambda v=vector: index.search(USER, EMBEDDER, v, 10)))
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
