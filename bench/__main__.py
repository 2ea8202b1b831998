"""``make bench``: the pipeline's cost per stage against the raw embedder, side by side.

Starts a private embedded Redis + FalkorDB server, then for several alternating rounds times,
on the same chunks: the raw embedder alone (the limit with no storage at all), chunk storage
+ vector indexing, graph extraction, graph writing, and the whole ``process_file`` job. Prints
medians with min–max and writes ``bench/results/latest.json``. Queue dispatch and API
benchmarks (the RQ comparison) belong to the benchmark issue and are not here yet.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = [ROOT / "tests" / "data" / "english.md", ROOT / "tests" / "data" / "traditional.txt"]


def _configure(port: int, tmp: Path) -> None:
    url = f"redis://127.0.0.1:{port}/0"
    os.environ.update(
        {"AIBOX_ENVIRONMENT": "test", "AIBOX_REDIS_URL": url, "AIBOX_VAR_DIR": str(tmp)}
    )


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--copies", type=int, default=300, help="corpus repetitions per round")
    parser.add_argument("--full", action="store_true", help="more rounds and a larger corpus")
    args = parser.parse_args()
    if args.full:
        args.rounds, args.copies = 9, 2000

    sys.path.insert(0, str(ROOT))
    from tests.support import free_port

    tmp = Path(tempfile.mkdtemp(prefix="aibox-bench-"))
    port = free_port()
    _configure(port, tmp)

    from aibox.pipeline import runtime
    from aibox.pipeline.chunking import chunk_text
    from aibox.pipeline.parsers import parse_file
    from aibox.pipeline.steps import process_file
    from aibox.server import start_server, stop_server
    from aibox.settings import get_settings

    server = start_server(port, tmp / "redis")
    try:
        settings = get_settings()
        p = runtime.pipeline()
        texts = [parse_file(path, path.suffix.lstrip(".")).text for path in CORPUS]
        text = "\n\n".join(texts * args.copies)
        chunks = chunk_text(
            text, size_chars=settings.chunk_size_chars, overlap_chars=settings.chunk_overlap_chars
        )
        doc = tmp / "corpus.txt"
        doc.write_text(text, encoding="utf-8")
        with open(doc, "rb") as f:
            record = p.files.save_upload(
                iter(lambda: f.read(1 << 20), b""),
                user_id="bench",
                filename="corpus.txt",
                file_type="txt",
                content_type=None,
                max_bytes=1 << 30,
            )
        extraction = p.extractor.extract(chunks)
        vectors = p.embedder.embed([c.text for c in chunks])

        def noop(*_: Any, **__: Any) -> None:
            return None

        scenarios: dict[str, Callable[[], Any]] = {
            "embed (raw limit)": lambda: p.embedder.embed([c.text for c in chunks]),
            "chunk": lambda: chunk_text(
                text,
                size_chars=settings.chunk_size_chars,
                overlap_chars=settings.chunk_overlap_chars,
            ),
            "store chunks + index vectors": lambda: (
                p.chunks.replace(record.file_id, chunks),
                p.vectors.add("bench", p.embedder.id, record.file_id, 0, vectors),
            ),
            "extract graph (NER, RE, RT)": lambda: p.extractor.extract(chunks),
            "write graph": lambda: p.graphs.replace_file(
                "bench", record.file_id, extraction, run_id=str(time.time())
            ),
            "whole job (process_file)": lambda: process_file(
                p, record, noop, run_id=str(time.time())
            ),
        }
        timings: dict[str, list[float]] = {name: [] for name in scenarios}
        for _ in range(args.rounds):  # alternate scenarios within each round
            for name, fn in scenarios.items():
                timings[name].append(_timed(fn))
    finally:
        stop_server(server)

    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "corpus": {"chars": len(text), "chunks": len(chunks), "rounds": args.rounds},
        "scenarios": {},
    }
    limit = statistics.median(timings["embed (raw limit)"])
    print(f"corpus: {len(text):,} chars, {len(chunks):,} chunks; {args.rounds} rounds, medians")
    print(f"{'scenario':<32}{'median s':>10}{'min–max s':>18}{'chunks/s':>12}{'× embed':>9}")
    for name, values in timings.items():
        median = statistics.median(values)
        row = {
            "median_s": median,
            "min_s": min(values),
            "max_s": max(values),
            "chunks_per_s": len(chunks) / median,
            "ratio_to_embed": median / limit,
        }
        results["scenarios"][name] = row
        print(
            f"{name:<32}{median:>10.3f}{min(values):>9.3f}–{max(values):<8.3f}"
            f"{row['chunks_per_s']:>12,.0f}{row['ratio_to_embed']:>9.1f}"
        )
    out = ROOT / "bench" / "results" / "latest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"written {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
