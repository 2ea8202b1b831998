"""Closed-loop HTTP load: C clients each POST 1 KB multipart uploads until N are sent.

``python -m bench.apps.http_client BASE_URL PATH N CONCURRENCY [USERNAME PASSWORD]``; logs in
first when given an account. Every file's bytes are unique (aibox reuses duplicate uploads).
With ``BENCH_RATE=R`` in the environment the clients are paced instead (open loop): together
they send R requests a second, so latency is the service time at that load, not the queue a
closed loop builds. Prints ``{"seconds", "requests_per_s", "p50_ms", "p99_ms", "errors"}``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid

import httpx2 as httpx

from bench.common import percentile


def _payload(i: int) -> bytes:
    head = f"benchmark upload {i} {uuid.uuid4().hex}\n".encode()
    return head + b"lorem ipsum dolor sit amet " * ((1024 - len(head)) // 27 + 1)


async def _run(
    base: str, path: str, n: int, concurrency: int, account: list[str], rate: float = 0.0
) -> dict[str, float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        if account:
            reply = await client.post(
                "/api/v1/auth/token", data={"username": account[0], "password": account[1]}
            )
            reply.raise_for_status()
            client.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"
        latencies: list[float] = []
        errors = 0
        counter = iter(range(n))

        async def one_client(offset: float) -> None:
            nonlocal errors
            if rate:  # paced: each client sends every concurrency/rate seconds
                await asyncio.sleep(offset * concurrency / rate)
            for i in counter:
                sent = time.perf_counter()
                files = {"file": (f"doc-{i}.txt", _payload(i)[:1024], "text/plain")}
                start = time.perf_counter()
                reply = await client.post(path, files=files)
                latencies.append(time.perf_counter() - start)
                if reply.status_code >= 300:
                    errors += 1
                if rate:
                    await asyncio.sleep(max(0.0, sent + concurrency / rate - time.perf_counter()))

        start = time.perf_counter()
        await asyncio.gather(*(one_client(c / concurrency) for c in range(concurrency)))
        seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "requests_per_s": n / seconds,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "errors": errors,
    }


def main() -> None:
    base, path, n, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rate = float(os.environ.get("BENCH_RATE", "0"))
    print(json.dumps(asyncio.run(_run(base, path, n, concurrency, sys.argv[5:7], rate))))


if __name__ == "__main__":
    main()
