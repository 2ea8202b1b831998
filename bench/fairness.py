"""The fairness scenario: one user's 2,000-document backlog, then another user's one document.

User A uploads ``n`` small documents (4 concurrent clients, one file per request) through the
real API; as soon as every one is accepted, user B uploads one. A real ``celery -A aibox
worker -Q file_processing -c 2`` processes them. Measured, per variant, side by side in each
round on one private stack (API and worker restarted per variant with its environment):

- ``fifo``: ``AIBOX_FAIR_SCHEDULING=false``, one first-in, first-out list (before fairness);
- ``priority`` (diagnostic, a candidate not in aibox): fair scheduling off and every job
  published with kombu priority ``min(user's queued jobs on the queue before it, 9)`` (see
  ``bench/apps/api_app.py``, ``BENCH_PRIORITY_BY_USER``);
- ``fair``: aibox's fair scheduling (``aibox/fairness.py``), the default;
- ``fair-alone``: the same without B, for A's throughput with nobody else;
- ``priority-burst`` and ``fair-burst``: B uploads ``BURST`` documents in one request instead
  of one — a second, smaller backlog — where the two candidates part ways.

The reference, "one job's processing time", is measured in each variant on the idle stack just
before its run: single documents uploaded one at a time, each waited for (upload → ended). B's
time is from just before its upload to its job's ``ended_at``; A's throughput is ``n`` over
first upload → A's last ``ended_at``. Every round uses fresh accounts (aibox reuses a user's
duplicate uploads).

The documents are real text nobody here wrote: the machine's ``/usr/share/common-licenses/*``
and ``/usr/share/doc/*/copyright`` files cut at paragraph (else line) boundaries into pieces of
1–2 KB, duplicates dropped, in a fixed order.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

from bench.common import PY, Stack, celery_worker, private_stack, rotate, run_json, summary
from bench.submission import make_user, start_api

VARIANTS = ("fifo", "priority", "fair", "fair-alone", "priority-burst", "fair-burst")
LABELS = {
    "fifo": "FIFO (AIBOX_FAIR_SCHEDULING=false, before fairness)",
    "priority": "diagnostic: priority from the user's queued count (not aibox)",
    "fair": "aibox fair scheduling (the default)",
    "fair-alone": "aibox fair scheduling, A alone (no B)",
    "priority-burst": "diagnostic priority, B uploads a batch",
    "fair-burst": "aibox fair scheduling, B uploads a batch",
}
ENV = {
    "fifo": {"AIBOX_FAIR_SCHEDULING": "false"},
    "priority": {"AIBOX_FAIR_SCHEDULING": "false", "BENCH_PRIORITY_BY_USER": "1"},
    "fair": {"AIBOX_FAIR_SCHEDULING": "true"},
    "fair-alone": {"AIBOX_FAIR_SCHEDULING": "true"},
    "priority-burst": {"AIBOX_FAIR_SCHEDULING": "false", "BENCH_PRIORITY_BY_USER": "1"},
    "fair-burst": {"AIBOX_FAIR_SCHEDULING": "true"},
}
#: B's documents in the "-burst" variants, in one request (aibox's most per request): a
#: second, smaller backlog, where a priority fixed at publishing runs out of steps.
BURST = 20
WORKER_PROCESSES = 2
REFERENCE_DOCS = 10  # measured; one more is uploaded first as a warm-up
SOURCES = (("/usr/share/common-licenses", "*"), ("/usr/share/doc", "*/copyright"))
MIN_BYTES, TARGET_BYTES, MAX_BYTES = 1000, 1500, 2000


def pieces() -> list[str]:
    """Distinct 1–2 KB pieces of the licence and copyright texts, in a fixed order."""
    seen: set[str] = set()
    out: list[str] = []

    def keep(text: str) -> None:
        size = len(text.encode())
        if MIN_BYTES <= size <= MAX_BYTES and text not in seen:
            seen.add(text)
            out.append(text)

    for root, pattern in SOURCES:
        for path in sorted(Path(root).glob(pattern)):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            current = ""
            for unit in _units(text):
                joined = f"{current}\n\n{unit}" if current else unit
                if current and len(joined.encode()) > MAX_BYTES:
                    keep(current)
                    current = unit
                else:
                    current = joined
                if len(current.encode()) >= TARGET_BYTES:
                    keep(current)
                    current = ""
            keep(current)
    return out


def _units(text: str) -> list[str]:
    """Paragraphs; one longer than MAX_BYTES is cut at line boundaries."""
    units: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if len(paragraph.encode()) <= MAX_BYTES:
            units.append(paragraph)
            continue
        current = ""
        for line in paragraph.splitlines():
            joined = f"{current}\n{line}" if current else line
            if current and len(joined.encode()) > MAX_BYTES:
                units.append(current)
                current = line
            else:
                current = joined
        if current:
            units.append(current)
    return units


def _documents(directory: Path, n: int) -> dict[str, list[str]]:
    """Write A's ``n`` documents, B's one and the reference's; their paths by role."""
    texts = pieces()
    needed = n + 1 + BURST + REFERENCE_DOCS + 1
    if len(texts) < needed:
        raise RuntimeError(
            f"fairness: {len(texts)} distinct pieces of licence texts on this machine, "
            f"{needed} needed (n={n}); lower fairness.n"
        )
    roles = {
        "a": texts[:n],
        "b": texts[n : n + 1],
        "burst": texts[n + 1 : n + 1 + BURST],
        "reference": texts[n + 1 + BURST : needed],
    }
    paths: dict[str, list[str]] = {}
    for role, chosen in roles.items():
        (directory / role).mkdir(parents=True, exist_ok=True)
        paths[role] = []
        for i, text in enumerate(chosen):
            path = directory / role / f"{role}-{i:05d}.txt"
            path.write_text(text, encoding="utf-8")
            paths[role].append(str(path))
    return paths


def run(n: int, rounds: int) -> dict[str, Any]:
    """B's upload → completed against one job, and A's docs/s, per variant, over ``rounds``."""
    raw: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    with private_stack("fairness") as stack:
        paths = _documents(stack.tmp / "documents", n)
        sizes = [Path(p).stat().st_size for p in paths["a"]]
        for r in range(rounds):
            for variant in rotate(VARIANTS, r):
                result = _variant(stack, variant, r, paths)
                raw[variant].append(result)
                _print(variant, r, rounds, result)
    out: dict[str, Any] = {
        "n": n,
        "rounds": rounds,
        "worker_processes": WORKER_PROCESSES,
        "reference_documents": REFERENCE_DOCS,
        "bytes_per_document": {
            "median": sorted(sizes)[len(sizes) // 2],
            "min": min(sizes),
            "max": max(sizes),
        },
        "labels": LABELS,
        "variants": {},
    }
    keys = (
        "one_job_s",
        "run_s",
        "a_throughput",
        "a_seconds",
        "a_upload_s",
        "a_uploads_per_s",
        "a_run_s_median",
        "failed",
    )
    b_keys = (
        "b_documents",
        "b_latency_s",
        "b_first_latency_s",
        "b_ratio",
        "b_ratio_to_run",
        "b_upload_s",
        "b_wait_s",
        "b_run_s",
        "a_queued_at_b_submit",
        "a_queued_when_b_done",
        "a_started_before_b",
        "a_running_at_b_submit",
        "a_done_at_b_submit",
    )
    for variant, results in raw.items():
        row = {k: summary([res[k] for res in results]) for k in keys}
        if "b_latency_s" in results[0]:
            row |= {k: summary([res[k] for res in results]) for k in b_keys}
        out["variants"][variant] = row
    out["raw"] = raw

    def ratio(top: str, bottom: str) -> dict[str, Any]:
        """A's throughput in ``top`` over ``bottom``, round by round."""
        pairs = zip(raw[top], raw[bottom], strict=True)
        return summary([a["a_throughput"] / b["a_throughput"] for a, b in pairs])

    out["ratios"] = {
        "fair/fifo": ratio("fair", "fifo"),
        "fair/fair-alone": ratio("fair", "fair-alone"),
        "priority/fifo": ratio("priority", "fifo"),
        "fifo/fair-alone": ratio("fifo", "fair-alone"),
    }
    fair = out["variants"]["fair"]
    out["checks"] = {
        "b_within_2x_one_job": fair["b_ratio"]["median"] <= 2
        and fair["a_queued_when_b_done"]["min"] > 0,
        "a_at_least_095x_fifo": out["ratios"]["fair/fifo"]["median"] >= 0.95,
    }
    return out


def _variant(stack: Stack, variant: str, r: int, paths: dict[str, list[str]]) -> dict[str, Any]:
    """Start the API and a worker with the variant's environment, run the client, stop both."""
    env = ENV[variant]
    before = list(stack.children)
    base = start_api(stack, env)
    celery_worker(stack, f"fair-{variant}", "aibox", "file_processing", WORKER_PROCESSES, env)
    started = [c for c in stack.children if c not in before]
    try:
        accounts = {}
        for role in ("reference", "a", "b"):
            if role == "b" and variant == "fair-alone":
                continue
            user = f"fair-{variant}-{r}-{role}"
            accounts[role] = {
                "user": user,
                "password": make_user(stack, user),
                "files": paths["burst" if role == "b" and "burst" in variant else role],
            }
        spec = {"base": base, "b": None, **accounts}
        spec_path = stack.tmp / f"fair-{variant}-{r}.json"
        spec_path.write_text(json.dumps(spec))
        result = dict(
            run_json(stack, [PY, "-m", "bench.apps.fair_client", str(spec_path)], 3600, env)
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"fairness {variant}: the client timed out") from exc
    finally:
        for process in reversed(started):
            stack.stop(process)
    reference = result.pop("reference")
    result["one_job_s"] = reference["one_job_s"]
    result["run_s"] = reference["run_s"]
    result["reference"] = reference
    if "b_latency_s" in result:
        result["b_ratio"] = result["b_latency_s"] / result["one_job_s"]
        result["b_ratio_to_run"] = result["b_latency_s"] / result["run_s"]
    return result


def _print(variant: str, r: int, rounds: int, res: dict[str, Any]) -> None:
    line = (
        f"  fairness round {r + 1}/{rounds} {variant:<10} one job {res['one_job_s']:.3f} s "
        f"(run {res['run_s']:.3f} s); A {res['a_throughput']:.1f} docs/s "
        f"({res['a_seconds']:.1f} s, uploads {res['a_upload_s']:.1f} s)"
    )
    if "b_latency_s" in res:
        line += (
            f"; B {res['b_latency_s']:.2f} s = {res['b_ratio']:.1f}x one job "
            f"(waited {res['b_wait_s']:.2f} s, {res['a_started_before_b']} of A's started "
            f"first), A queued at B's end {res['a_queued_when_b_done']}"
        )
    if res["failed"]:
        line += f"; FAILED {res['failed']}"
    print(line, flush=True)
