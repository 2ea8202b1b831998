"""Scenario 1, dispatch throughput: N no-op tasks from first submit to last result.

Systems, all on one private Redis and each with the same number of worker processes:
aibox's real Celery stack; a bare Celery app with the same pool, acks and prefetch settings;
RQ with its default forking ``Worker`` and with ``SimpleWorker``; and the raw limit, Redis
list push/pop round trips. Every system's workers start once, then each round runs every
system in turn (the order rotates), so all systems see the same machine noise.
"""

from __future__ import annotations

import subprocess
from typing import Any

from bench.common import PY, Stack, celery_worker, private_stack, rotate, run_json, summary

SYSTEMS = ("aibox", "celery-same", "celery", "rq-fork", "rq-simple", "raw")
LABELS = {
    "aibox": "aibox (Celery + registry + signals)",
    "celery-same": "bare Celery, aibox's Celery settings (events, STARTED, extended results)",
    "celery": "bare Celery, pool/acks/prefetch only (no events, no STARTED)",
    "rq-fork": "RQ default forking Worker",
    "rq-simple": "RQ SimpleWorker",
    "raw": "raw Redis LPUSH/BRPOP (limit)",
}
DBS = {"celery": 2, "rq-fork": 3, "rq-simple": 4, "raw": 5, "celery-same": 10}
# Diagnostic variants: aibox with one part of its stack off (bench/apps/aibox_variant.py),
# each with its own broker database.
VARIANTS = {
    "aibox-noevents": ("noevents", 6, "aibox without Celery task events (diagnostic)"),
    "aibox-noregistry": ("noregistry", 7, "aibox without job-registry signals (diagnostic)"),
    "aibox-nostarted": ("nostarted", 8, "aibox without track_started/result_extended (diag.)"),
    "aibox-lean": ("lean", 9, "aibox, events and STARTED tracking off (diagnostic)"),
}


def _env(stack: Stack, system: str) -> dict[str, str]:
    env = {"BENCH_REDIS_PORT": str(stack.port), "BENCH_BARE_DB": str(DBS["celery"])}
    if system == "celery-same":
        env["BENCH_BARE_DB"] = str(DBS["celery-same"])
        env["BENCH_BARE_SETTINGS"] = "aibox"
    if system in ("rq-fork", "rq-simple"):
        env["BENCH_RQ_DB"] = str(DBS[system])
    if system == "raw":
        env["BENCH_RAW_DB"] = str(DBS["raw"])
    if system in VARIANTS:
        variant, db, _ = VARIANTS[system]
        env["BENCH_AIBOX_VARIANT"] = variant
        env["BENCH_VARIANT_DB"] = str(db)
        env["AIBOX_BROKER_URL"] = stack.url(db)
    return env


def _start(stack: Stack, system: str, processes: int) -> list[subprocess.Popen[bytes]]:
    env = _env(stack, system)
    if system == "aibox":
        return [
            celery_worker(
                stack, "aibox-noop", "bench.apps.aibox_noop", "file_processing", processes, env
            )
        ]
    if system in VARIANTS:
        return [
            celery_worker(
                stack, system, "bench.apps.aibox_variant", "file_processing", processes, env
            )
        ]
    if system in ("celery", "celery-same"):
        return [
            celery_worker(stack, f"bare-{system}", "bench.apps.bare_celery", "bare", processes, env)
        ]
    started = []
    for i in range(processes):
        if system == "raw":
            argv = [PY, "-m", "bench.apps.raw_worker", str(stack.port), str(DBS["raw"])]
        else:
            argv = [
                PY,
                "-m",
                "rq.cli",
                "worker",
                "-u",
                stack.url(DBS[system]),
                "-q",
                "-n",
                f"{system}-{i}",
                "bench",
            ]
            if system == "rq-simple":
                argv += ["-w", "rq.worker.SimpleWorker"]
        started.append(stack.spawn(f"{system}-{i}", argv, env))
    return started


def _submit(stack: Stack, system: str, n: int) -> float:
    argv = [PY, "-m", "bench.apps.dispatch_client", system, str(n)]
    return float(run_json(stack, argv, timeout=900, env=_env(stack, system))["seconds"])


def run(
    n: int, rounds: int, processes: int = 2, warmup: int = 50, variants: bool = True
) -> dict[str, Any]:
    """Tasks/s per system over ``rounds`` rounds; ratios of aibox to each other system."""
    systems = SYSTEMS + (tuple(VARIANTS) if variants else ())
    times: dict[str, list[float]] = {s: [] for s in systems}
    with private_stack("dispatch") as stack:
        for system in systems:
            _start(stack, system, processes)
        for system in systems:
            _submit(stack, system, warmup)
        for r in range(rounds):
            for system in rotate(systems, r):
                seconds = _submit(stack, system, n)
                times[system].append(seconds)
                print(
                    f"  dispatch round {r + 1}/{rounds} {system:<10} {n / seconds:8.0f} tasks/s",
                    flush=True,
                )
    rates = {s: summary([n / t for t in times[s]]) for s in systems}
    ratios = {
        f"aibox/{s}": summary([times[s][i] / times["aibox"][i] for i in range(rounds)])
        for s in systems
        if s != "aibox"
    }
    return {
        "n": n,
        "rounds": rounds,
        "worker_processes": processes,
        "labels": {**LABELS, **{k: v[2] for k, v in VARIANTS.items() if k in systems}},
        "tasks_per_s": rates,
        "ratios": ratios,
    }
