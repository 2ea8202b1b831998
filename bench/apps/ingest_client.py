"""Upload documents to the real API and wait until every one is completed (or failed).

``python -m bench.apps.ingest_client BASE_URL USER PASSWORD FILE...``. Uploads with 4
concurrent clients, then polls the pending files' status. Times first upload → last
completion. Prints ``{"seconds", "documents", "bytes", "chunks", "failed"}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import httpx2 as httpx


async def _run(base: str, user: str, password: str, paths: list[Path]) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        reply = await client.post(
            "/api/v1/auth/token", data={"username": user, "password": password}
        )
        reply.raise_for_status()
        client.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"
        contents = [(p.name, p.read_bytes()) for p in paths]
        queue = iter(contents)
        ids: list[str] = []

        async def uploader() -> None:
            for name, data in queue:
                r = await client.post("/api/v1/files", files={"file": (name, data)})
                r.raise_for_status()
                ids.append(r.json()["data"]["file_id"])

        start = time.perf_counter()
        await asyncio.gather(*(uploader() for _ in range(4)))
        pending = set(ids)
        records: dict[str, dict[str, object]] = {}
        while pending:
            for file_id in list(pending):
                r = await client.get(f"/api/v1/files/{file_id}")
                data = r.json()["data"]
                if data["status"] in ("completed", "failed"):
                    records[file_id] = data
                    pending.discard(file_id)
            if pending:
                await asyncio.sleep(0.1)
        seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "documents": len(records),
        "bytes": sum(len(data) for _, data in contents),
        "chunks": sum(int(str(r["chunk_count"])) for r in records.values()),
        "failed": sum(1 for r in records.values() if r["status"] == "failed"),
    }


def main() -> None:
    base, user, password = sys.argv[1:4]
    paths = [Path(p) for p in sys.argv[4:]]
    print(json.dumps(asyncio.run(_run(base, user, password, paths))))


if __name__ == "__main__":
    main()
