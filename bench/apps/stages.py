"""The pipeline's own cost per stage on the ingestion corpus, and a profile of whole jobs.

``python -m bench.apps.stages ROUNDS FILE...`` on a private server. Per round, alternating
stage by stage over the same documents: parse, chunk, the raw embedder (the limit), chunk
storage + vector indexing, graph extraction (NER, RE, RT), graph writing, and the whole
``process_file`` job. Then one ``process_file`` pass per document under cProfile; the
functions with the most own time are the pipeline's top costs. Prints JSON.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aibox import processing
from aibox.pipeline.chunking import chunk_document
from aibox.pipeline.parsers import parse_file
from aibox.processing import process_file
from aibox.settings import get_settings
from bench.corpus import file_type


def _noop(*_: Any, **__: Any) -> None:
    return None


def main() -> None:
    rounds = int(sys.argv[1])
    paths = [Path(p) for p in sys.argv[2:]]
    settings = get_settings()
    p = processing.pipeline()
    size, overlap = settings.chunk_size_chars, settings.chunk_overlap_chars
    records = []
    for path in paths:
        with open(path, "rb") as f:
            records.append(
                p.files.save_upload(
                    iter(lambda f=f: f.read(1 << 20), b""),
                    user_id="bench",
                    filename=path.name,
                    file_type=file_type(path),
                    content_type=None,
                    max_bytes=1 << 30,
                )
            )
    docs = [parse_file(path, file_type(path)) for path in paths]
    chunks = [chunk_document(d, size_chars=size, overlap_chars=overlap) for d in docs]
    extractions = [p.extractor.extract(c) for c in chunks]
    vectors = [p.embedder.embed([c.text for c in cs]) for cs in chunks]
    # "parse HTML" for the Debian corpus: the name the notes and earlier results use.
    parse_label = "parse " + "/".join(sorted({file_type(path).upper() for path in paths}))
    stages: dict[str, Callable[[int], Any]] = {
        parse_label: lambda i: parse_file(paths[i], file_type(paths[i])),
        "chunk": lambda i: chunk_document(docs[i], size_chars=size, overlap_chars=overlap),
        "embed (raw limit)": lambda i: p.embedder.embed([c.text for c in chunks[i]]),
        "store chunks + index vectors": lambda i: (
            p.chunks.replace(records[i].file_id, chunks[i]),
            p.vectors.add("bench", p.embedder.id, records[i].file_id, 0, vectors[i]),
        ),
        "extract graph (NER, RE, RT)": lambda i: p.extractor.extract(chunks[i]),
        "write graph": lambda i: p.graphs.replace_file(
            "bench", records[i].file_id, extractions[i], run_id=str(time.time())
        ),
        "whole job (process_file)": lambda i: process_file(
            p, records[i], _noop, run_id=str(time.time())
        ),
    }
    timings: dict[str, list[float]] = {name: [] for name in stages}
    for _ in range(rounds):
        for name, fn in stages.items():
            start = time.perf_counter()
            for i in range(len(paths)):
                fn(i)
            timings[name].append(time.perf_counter() - start)
    profiler = cProfile.Profile()
    profiler.enable()
    for record in records:
        process_file(p, record, _noop, run_id=str(time.time()))
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    top = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:15]  # type: ignore[attr-defined]
    profile = [
        {
            "function": f"{Path(fn[0]).name}:{fn[1]}:{fn[2]}",
            "path": fn[0].split("site-packages/")[-1].split("/work/main/")[-1],
            "own_s": row[2],
            "cumulative_s": row[3],
            "share_of_job": row[2] / total,
        }
        for fn, row in top
    ]
    print(
        json.dumps(
            {
                "documents": len(paths),
                "chunks": sum(len(c) for c in chunks),
                "chars": sum(len(d.text) for d in docs),
                "timings_s": timings,
                "profile_top": profile,
                "profile_total_s": total,
            }
        )
    )


if __name__ == "__main__":
    main()
