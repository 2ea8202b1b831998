"""One run of the fairness scenario: a reference, user A's backlog, then user B's one document.

``python -m bench.apps.fair_client SPEC_FILE`` where the spec (JSON: 2,000 paths are too long
for one command-line argument) names the API's base URL, the documents and the accounts:
``{"base", "reference": {"user", "password", "files"}, "a": {...}, "b": {...} or null}``.
Job timestamps are read from the job registry (``aibox:job:{id}``: ``created_at``,
``started_at``, ``ended_at``) on ``AIBOX_REDIS_URL``, so the polling interval does not enter
any figure.

1. Reference, on the idle stack: the reference account uploads its documents one at a time
   (the first one is a warm-up, not counted) and waits for each job to end: upload start →
   ``ended_at`` is one job's latency, ``ended_at − started_at`` its run time.
2. A uploads all its documents with 4 concurrent clients (one file per ``POST
   /api/v1/files``); as soon as every one is accepted, B (if any) uploads its document(s) —
   several go in one request, a bulk upload: ``t0`` is taken just before B's ``POST``. Then
   it waits until every job has ended. B's time is its last job's end − ``t0``.

Prints one JSON object (seconds are wall-clock, epoch-based, all on this machine's clock).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

from aibox.queues import FILE_PROCESSING
from aibox.services import job_registry
from aibox.store.registry import JobRecord

POLL_S = 0.2
TIMEOUT_S = 1800.0


async def _login(client: httpx.AsyncClient, user: str, password: str) -> dict[str, str]:
    reply = await client.post("/api/v1/auth/token", data={"username": user, "password": password})
    reply.raise_for_status()
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


async def _upload(client: httpx.AsyncClient, headers: dict[str, str], path: Path) -> str:
    """POST one file; returns its job id (a reused duplicate would have none: refused)."""
    reply = await client.post(
        "/api/v1/files", files={"file": (path.name, path.read_bytes())}, headers=headers
    )
    if reply.status_code != 202:
        raise RuntimeError(f"upload of {path.name}: {reply.status_code} {reply.text[:300]}")
    data = reply.json()["data"]
    if data.get("reused") or not data.get("job_id"):
        raise RuntimeError(f"upload of {path.name} was not queued as a new job: {data}")
    return str(data["job_id"])


async def _upload_batch(
    client: httpx.AsyncClient, headers: dict[str, str], paths: list[Path]
) -> list[str]:
    """POST the files in one request (a bulk upload); their job ids, in order."""
    parts = [("files", (p.name, p.read_bytes())) for p in paths]
    reply = await client.post("/api/v1/files", files=parts, headers=headers)
    if reply.status_code != 202:
        raise RuntimeError(f"batch upload: {reply.status_code} {reply.text[:300]}")
    return [str(f["job_id"]) for f in reply.json()["data"]["files"]]


def _ended(job_ids: list[str], deadline: float) -> dict[str, JobRecord]:
    """Wait until every job has ended; their records."""
    registry = job_registry()
    pending = set(job_ids)
    records: dict[str, JobRecord] = {}
    full_read = time.monotonic() + 5
    while pending:
        # A few ZCARDs per poll while jobs are queued or running; the records are read when
        # those counts say nothing is left (and every 5 s in case of a stale job), so polling
        # adds next to nothing to the load.
        counts = registry.counts(FILE_PROCESSING)
        idle = counts["queued"] + counts["started"] == 0
        if idle or len(pending) <= 10 or time.monotonic() > full_read:
            full_read = time.monotonic() + 5
            found = registry.get_many(pending)
            for job_id, record in found.items():
                if record.ended_at is not None and record.state != "queued":
                    records[job_id] = record
                    pending.discard(job_id)
        if pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(pending)} jobs had not ended in {TIMEOUT_S:.0f} s")
            time.sleep(POLL_S)
    return records


async def _reference(client: httpx.AsyncClient, spec: dict[str, Any]) -> dict[str, Any]:
    headers = await _login(client, spec["user"], spec["password"])
    registry = job_registry()
    latencies, runs = [], []
    for i, name in enumerate(spec["files"]):
        start = time.time()
        job_id = await _upload(client, headers, Path(name))
        deadline = time.monotonic() + 300
        while True:
            record = registry.get(job_id)
            if record is not None and record.ended_at is not None and record.state != "queued":
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"reference job {job_id} did not end in 300 s")
            await asyncio.sleep(0.02)
        if record.state != "finished":
            raise RuntimeError(f"reference job {job_id} {record.state}: {record.error}")
        if i == 0:
            continue  # warm-up
        assert record.started_at is not None
        latencies.append(record.ended_at - start)
        runs.append(record.ended_at - record.started_at)
    return {
        "one_job_s": statistics.median(latencies),
        "run_s": statistics.median(runs),
        "one_job_values": latencies,
        "run_values": runs,
    }


async def _run(spec: dict[str, Any]) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
    async with httpx.AsyncClient(base_url=spec["base"], timeout=120, limits=limits) as client:
        out: dict[str, Any] = {"reference": await _reference(client, spec["reference"])}
        a_headers = await _login(client, spec["a"]["user"], spec["a"]["password"])
        b_headers = {}
        if spec["b"]:
            b_headers = await _login(client, spec["b"]["user"], spec["b"]["password"])
        files = iter(Path(p) for p in spec["a"]["files"])
        a_ids: list[str] = []

        async def uploader() -> None:
            for path in files:
                a_ids.append(await _upload(client, a_headers, path))

        a_start = time.time()
        await asyncio.gather(*(uploader() for _ in range(4)))
        a_uploaded = time.time()
        b_ids: list[str] = []
        t0 = None
        if spec["b"]:
            b_files = [Path(p) for p in spec["b"]["files"]]
            t0 = time.time()
            if len(b_files) == 1:
                b_ids = [await _upload(client, b_headers, b_files[0])]
            else:
                b_ids = await _upload_batch(client, b_headers, b_files)
        b_accepted = time.time()
    records = _ended(a_ids + b_ids, time.monotonic() + TIMEOUT_S)
    a = [records[j] for j in a_ids]
    failed = sum(1 for r in records.values() if r.state != "finished")
    a_end = max(r.ended_at or 0.0 for r in a)
    n = len(a_ids)
    out.update(
        n=n,
        failed=failed,
        a_upload_s=a_uploaded - a_start,
        a_uploads_per_s=n / (a_uploaded - a_start),
        a_seconds=a_end - a_start,
        a_throughput=n / (a_end - a_start),
        a_run_s_median=statistics.median((r.ended_at or 0) - (r.started_at or 0) for r in a),
    )
    if not b_ids or t0 is None:
        return out
    b = records[b_ids[0]]
    assert b.started_at is not None
    assert b.ended_at is not None
    # With several documents (one bulk request), B's time is its last job's end.
    b_last = max(records[j].ended_at or 0.0 for j in b_ids)
    out.update(
        b_documents=len(b_ids),
        b_latency_s=b_last - t0,
        b_first_latency_s=b.ended_at - t0,
        b_upload_s=b_accepted - t0,
        b_wait_s=b.started_at - t0,  # upload + time in the queue
        b_run_s=b.ended_at - b.started_at,
        # A's jobs not yet started when B was submitted / when B's job ended.
        a_queued_at_b_submit=sum(1 for r in a if r.started_at is None or r.started_at > t0),
        a_queued_when_b_done=sum(1 for r in a if r.started_at is None or r.started_at > b_last),
        # A's jobs that started after B was submitted but before B's job did: what B waited for.
        a_started_before_b=sum(
            1 for r in a if r.started_at is not None and t0 <= r.started_at < b.started_at
        ),
        # A's jobs running when B was submitted, and how long the last of them still ran.
        a_running_at_b_submit=sum(
            1
            for r in a
            if r.started_at is not None and r.started_at <= t0 < (r.ended_at or float("inf"))
        ),
        a_done_at_b_submit=sum(1 for r in a if (r.ended_at or float("inf")) <= t0),
    )
    return out


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(asyncio.run(_run(spec))))


if __name__ == "__main__":
    main()
