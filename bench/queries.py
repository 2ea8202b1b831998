"""Scenario 4, queries: search p50/p99 and one-hop graph neighbourhoods on loaded data.

Each size gets its own private server; aibox's own query functions run alternately, query by
query, with their bare Redis/FalkorDB command (the limit) in one process.
"""

from __future__ import annotations

from typing import Any

from bench.common import PY, private_stack, run_json, summary

LABELS = {
    "hybrid": "aibox search, hybrid (k=10; hashing: full text alone)",
    "hybrid_vectors": "aibox search, hybrid with vectors fused (weight 0.25, k=10)",
    "fulltext": "aibox search, fulltext (k=10)",
    "search": "aibox VectorIndex.search (k=10)",
    "vsim": "bare VSIM command (limit)",
    "neighbors": "aibox GraphQueries.neighbors (1 hop, limit 50)",
    "cypher": "bare anchored Cypher, 1 hop (limit)",
}


def run(sizes: list[tuple[int, int]], queries: int, rounds: int) -> dict[str, Any]:
    out: dict[str, Any] = {"labels": LABELS, "sizes": []}
    for chunks, entities in sizes:
        with private_stack("queries") as stack:
            argv = [
                PY,
                "-m",
                "bench.apps.query_bench",
                str(chunks),
                str(entities),
                str(queries),
                str(rounds),
            ]
            raw = run_json(stack, argv, timeout=3600)
        row: dict[str, Any] = {
            "chunks": chunks,
            "entities": entities,
            "queries_per_round": queries,
            "rounds": rounds,
            "vector_load_s": raw["vector_load_s"],
            "fulltext_load_s": raw["fulltext_load_s"],
            "fulltext_bytes_per_chunk": raw["fulltext_bytes_per_chunk"],
            "graph_load_s": raw["graph_load_s"],
        }
        for name, per_round in raw["rounds"].items():
            row[name] = {
                "p50_ms": summary([r["p50_ms"] for r in per_round]),
                "p99_ms": summary([r["p99_ms"] for r in per_round]),
            }
        out["sizes"].append(row)
        print(
            f"  queries {chunks} chunks / {entities} entities: hybrid p50 "
            f"{row['hybrid']['p50_ms']['median']:.2f} ms p99 "
            f"{row['hybrid']['p99_ms']['median']:.2f} ms; vector search p50 "
            f"{row['search']['p50_ms']['median']:.2f} ms p99 "
            f"{row['search']['p99_ms']['median']:.2f} ms (VSIM p99 "
            f"{row['vsim']['p99_ms']['median']:.2f}); load {raw['vector_load_s']:.1f}s"
            + (
                f"; neighbors p99 {row['neighbors']['p99_ms']['median']:.2f} ms "
                f"(cypher {row['cypher']['p99_ms']['median']:.2f}); graph load "
                f"{raw['graph_load_s']:.1f}s"
                if entities
                else ""
            ),
            flush=True,
        )
    return out
