"""Scenario 2, submission: 1 KB uploads at fixed concurrency against one real uvicorn.

The same server process (``bench.apps.api_app``) serves aibox's ``POST /api/v1/files``, a
bare endpoint that only reads the upload (the limit) and the old RQ-style upload (form parse,
write, ``Queue.enqueue``). No worker consumes the queues: this measures accepting work.
The load generator is a separate process sharing the machine's two cores with the server.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx2 as httpx

from bench.common import PY, Stack, free_port, private_stack, rotate, run_json, summary, wait_for

ENDPOINTS = ("aibox", "bare", "rq")
PATHS = {"aibox": "/api/v1/files", "bare": "/bench/bare", "rq": "/bench/rq"}
LABELS = {
    "aibox": "aibox POST /api/v1/files",
    "bare": "bare FastAPI endpoint, reads the upload (limit)",
    "rq": "RQ-style upload: form parse, write, enqueue",
}


def start_api(stack: Stack, env: dict[str, str] | None = None) -> str:
    """Start uvicorn with the bench API app; returns its base URL once it answers."""
    port = free_port()
    argv = [
        PY,
        "-m",
        "uvicorn",
        "bench.apps.api_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    env = {"BENCH_REDIS_PORT": str(stack.port), **(env or {})}
    process = stack.spawn(f"api-{port}", argv, env)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited:\n{stack.log_tail(f'api-{port}')}")
        try:
            return httpx.get(base + "/health", timeout=2).status_code < 500
        except httpx.HTTPError:
            return False

    wait_for(up, timeout=60, what="uvicorn")
    return base


def make_user(stack: Stack, name: str) -> str:
    """Create an account; returns its password."""
    password = secrets.token_urlsafe(16)
    run_json(stack, [PY, "-m", "bench.apps.make_user", name, password], timeout=60)
    return password


def run(
    n: int, rounds: int, concurrency: int = 50, paced_rate: float = 40, paced_n: int = 200
) -> dict[str, Any]:
    """Requests/s and p50/p99 per endpoint; ratios of aibox's requests/s to the others'.

    Each round also runs every endpoint paced (open loop): the same 50 clients together
    sending ``paced_rate`` requests a second, which gives the latency at that load.
    """
    raw: dict[str, list[dict[str, float]]] = {e: [] for e in ENDPOINTS}
    paced: dict[str, list[dict[str, float]]] = {e: [] for e in ENDPOINTS}
    with private_stack("submission") as stack:
        base = start_api(stack)
        password = make_user(stack, "bench")
        for endpoint in ENDPOINTS:  # warm-up
            _load(stack, base, endpoint, 100, concurrency, password)
        for r in range(rounds):
            for endpoint in rotate(ENDPOINTS, r):
                result = _load(stack, base, endpoint, n, concurrency, password)
                raw[endpoint].append(result)
                print(
                    f"  submission round {r + 1}/{rounds} {endpoint:<6} "
                    f"{result['requests_per_s']:7.0f} req/s p50 {result['p50_ms']:6.1f} ms "
                    f"p99 {result['p99_ms']:6.1f} ms errors {result['errors']}",
                    flush=True,
                )
            for endpoint in rotate(ENDPOINTS, r):
                result = _load(
                    stack, base, endpoint, paced_n, concurrency, password, rate=paced_rate
                )
                paced[endpoint].append(result)
                print(
                    f"  submission round {r + 1}/{rounds} {endpoint:<6} paced at "
                    f"{paced_rate:.0f} req/s: p50 {result['p50_ms']:6.1f} ms "
                    f"p99 {result['p99_ms']:6.1f} ms errors {result['errors']}",
                    flush=True,
                )
    out: dict[str, Any] = {
        "n": n,
        "rounds": rounds,
        "concurrency": concurrency,
        "labels": LABELS,
        "endpoints": {},
        "paced": {"rate": paced_rate, "n": paced_n, "endpoints": {}},
    }
    for endpoint, results in paced.items():
        out["paced"]["endpoints"][endpoint] = {
            key: summary([res[key] for res in results])
            for key in ("requests_per_s", "p50_ms", "p99_ms", "errors")
        }
    for endpoint, results in raw.items():
        out["endpoints"][endpoint] = {
            key: summary([res[key] for res in results])
            for key in (
                "requests_per_s",
                "p50_ms",
                "p99_ms",
                "errors",
                "redis_commands_per_request",
            )
        }
    out["ratios"] = {
        f"aibox/{e}": summary(
            [raw["aibox"][i]["requests_per_s"] / raw[e][i]["requests_per_s"] for i in range(rounds)]
        )
        for e in ENDPOINTS
        if e != "aibox"
    }
    return out


def _commands(stack: Stack) -> int:
    """Commands the Redis server has run so far (all databases)."""
    import redis

    with redis.Redis(port=stack.port) as client:
        stats = client.info("commandstats")
    return sum(int(v["calls"]) for k, v in stats.items() if not k.endswith("|info"))


def _load(
    stack: Stack,
    base: str,
    endpoint: str,
    n: int,
    concurrency: int,
    password: str,
    rate: float = 0.0,
) -> dict[str, float]:
    argv = [PY, "-m", "bench.apps.http_client", base, PATHS[endpoint], str(n), str(concurrency)]
    if endpoint != "bare":
        argv += ["bench", password]
    before = _commands(stack)
    env = {"BENCH_RATE": str(rate)} if rate else None
    result = dict(run_json(stack, argv, timeout=600, env=env))
    # Includes the client's one login (a few commands) and the INFO calls themselves.
    result["redis_commands_per_request"] = (_commands(stack) - before) / n
    return result
