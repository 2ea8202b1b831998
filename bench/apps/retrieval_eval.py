"""Retrieval quality in one process on a private server, with the embedder its settings name.

``python -m bench.apps.retrieval_eval CORPUS_DIR SPLIT [--graph] [--variant FIELD=VALUE,...]``:
ingests every
document of the split through aibox's own pipeline (``processing.pipeline()``: the parsers,
chunker, full-text index, embedder and graph extractor a worker runs), then asks every query
through ``aibox.search.find`` — what the API and the CLI call — in each mode, and prints per
query the rank of the first chunk of the right document (and, for questions, of the first
chunk holding the answer passage) as JSON. Scoring is left to ``bench.retrieval``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aibox import processing
from aibox.processing import process_file
from aibox.search import Found, Mode, find, vector_weight
from aibox.services import file_store
from aibox.settings import get_settings
from bench.common import percentile
from bench.corpus import file_type
from bench.retrieval_corpus import build, source_text
from bench.retrieval_queries import Query, generate, load_questions

USER = "bench"
K = 10
_SPACE = re.compile(r"\s+")


def _quiet(stage: str, overall: int, message: str, /, **fields: Any) -> None:
    del stage, overall, message, fields


def ingest(docs: Sequence[Any]) -> dict[str, str]:
    """Upload and process every document; returns file id -> doc id."""
    pipeline = processing.pipeline()
    files = file_store()
    by_file: dict[str, str] = {}
    for doc in docs:
        path = Path(doc.path)
        record = files.save_upload(
            iter([path.read_bytes()]),
            user_id=USER,
            filename=path.name,
            file_type=file_type(path),
            content_type=None,
            max_bytes=200 * 1024 * 1024,
        )
        process_file(pipeline, record, _quiet, run_id=uuid.uuid4().hex)
        by_file[record.file_id] = doc.doc_id
    return by_file


def _squeeze(text: str) -> str:
    return _SPACE.sub("", text)


def holds_answer(chunk_text: str, answer: str) -> bool:
    """True when the chunk holds a third of the answer passage verbatim (spaces ignored):
    a passage cut by a chunk boundary still counts for the chunk holding most of it."""
    passage, chunk = _squeeze(answer), _squeeze(chunk_text)
    third = max(1, len(passage) // 3)
    return any(passage[i : i + third] in chunk for i in range(0, len(passage) - third + 1, third))


def ranks(found: list[Found], by_file: dict[str, str], query: Query) -> dict[str, int | None]:
    """1-based rank of the first hit from the right document, and of the first holding the
    answer (questions); None when not in the top K."""
    document = passage = None
    for rank, hit in enumerate(found, 1):
        if by_file.get(hit.file_id) != query.doc_id:
            continue
        document = document or rank
        if query.answer and passage is None and holds_answer(hit.chunk.text, query.answer):
            passage = rank
    out: dict[str, int | None] = {"document": document}
    if query.answer:
        out["passage"] = passage
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("split")
    parser.add_argument("--graph", action="store_true", help="also hybrid with graph=true")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help="also run hybrid with these settings, e.g. search_fusion=rrf,search_vector_weight=1",
    )
    args = parser.parse_args()
    docs = build(args.corpus, args.split)
    texts = {doc.doc_id: source_text(doc) for doc in docs}
    queries = generate(docs, texts)
    if not os.environ.get("TRIAL_NO_QUESTIONS"):
        queries += load_questions(args.split, docs)

    started = time.perf_counter()
    by_file = ingest(docs)
    ingest_s = time.perf_counter() - started

    settings = get_settings()
    runs: list[tuple[str, Mode, bool, dict[str, Any]]] = [
        ("vector", "vector", False, {}),
        ("fulltext", "fulltext", False, {}),
        ("hybrid", "hybrid", False, {}),
    ]
    if args.graph:
        runs.append(("hybrid+graph", "hybrid", True, {}))
    for variant in args.variant:
        fields = dict(pair.split("=", 1) for pair in variant.split(","))
        runs.append((f"hybrid {variant}", "hybrid", False, fields))
    defaults = settings.model_dump()
    results: dict[str, list[dict[str, int | None]]] = {}
    latency: dict[str, dict[str, float]] = {}
    for name, mode, graph, fields in runs:
        for field, value in fields.items():
            setattr(settings, field, value if field == "search_fusion" else float(value))
        timings = []
        placed = []
        for query in queries:
            start = time.perf_counter()
            found = find(USER, query.text, K, mode=mode, graph=graph).found
            timings.append((time.perf_counter() - start) * 1000)
            placed.append(ranks(found, by_file, query))
        results[name] = placed
        latency[name] = {"p50_ms": percentile(timings, 50), "p99_ms": percentile(timings, 99)}
        for field in fields:
            setattr(settings, field, defaults[field])
    chunks = sum(r.chunk_count or 0 for r in file_store().list_for_user(USER, limit=100_000))
    print(
        json.dumps(
            {
                "embedder": processing.embedder().id,
                "documents": len(docs),
                "chunks": chunks,
                "ingest_s": ingest_s,
                "queries": [
                    {"kind": q.kind, "language": q.language, "doc_id": q.doc_id, "text": q.text}
                    for q in queries
                ],
                "ranks": results,
                "latency": latency,
                "settings": {
                    "fusion": settings.search_fusion,
                    "fulltext weight": settings.search_fulltext_weight,
                    "vector weight": vector_weight(),
                    "graph weight": settings.search_graph_weight,
                    "candidates": settings.search_candidates,
                },
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    main()
