"""The hashing pipeline's own overhead: time per stage and a cProfile of whole jobs."""

from __future__ import annotations

from typing import Any

from bench.common import PY, private_stack, run_json, summary
from bench.corpus import Corpus, select


def run(mode: str, rounds: int, corpus: Corpus | None = None) -> dict[str, Any]:
    files, sources = select(mode, corpus)
    if not files:
        return {"skipped": f"no corpus: {sources}"}
    with private_stack("stages") as stack:
        argv = [PY, "-m", "bench.apps.stages", str(rounds), *map(str, files)]
        raw = run_json(stack, argv, timeout=3600, env={"AIBOX_EMBEDDER": "hashing"})
    whole = summary(raw["timings_s"]["whole job (process_file)"])["median"]
    stages = {}
    for name, values in raw["timings_s"].items():
        row = summary(values)
        row["chunks_per_s"] = raw["chunks"] / row["median"]
        row["share_of_whole_job"] = row["median"] / whole
        stages[name] = row
    top = sorted(
        (
            (n, r)
            for n, r in stages.items()
            if n not in ("whole job (process_file)", "embed (raw limit)")
        ),
        key=lambda nr: nr[1]["median"],
        reverse=True,
    )
    print(
        "  stages: " + ", ".join(f"{n} {r['median']:.2f}s" for n, r in stages.items()), flush=True
    )
    return {
        "corpus": sources,
        "documents": raw["documents"],
        "chunks": raw["chunks"],
        "chars": raw["chars"],
        "rounds": rounds,
        "stages": stages,
        "top_stages": [n for n, _ in top[:3]],
        "profile_top": raw["profile_top"],
        "profile_total_s": raw["profile_total_s"],
    }
