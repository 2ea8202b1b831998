"""aibox's API app plus two comparison endpoints, served by one uvicorn process.

``uvicorn bench.apps.api_app:app``. Beside aibox's real ``POST /api/v1/files``:

- ``POST /bench/bare`` reads the request body and answers its size: the limit of this server.
- ``POST /bench/rq`` does what the replaced RQ system did for an upload: parse the multipart
  form, write the file to disk and ``Queue.enqueue`` a job for it (same authentication as
  aibox's endpoint).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import redis
from fastapi import Request
from rq import Queue
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from aibox.api.deps import CurrentUser
from aibox.api.main import app
from aibox.settings import get_settings
from bench.apps.rq_jobs import store_upload

__all__ = ["app"]

_queue = Queue(
    "uploads",
    connection=redis.Redis(port=int(os.environ["BENCH_REDIS_PORT"]), db=3),
)
_storage = Path(get_settings().var_dir) / "rq-storage"
_storage.mkdir(parents=True, exist_ok=True)


@app.post("/bench/bare", include_in_schema=False)
async def bare_upload(request: Request) -> dict[str, int]:
    """Read the upload and nothing else."""
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return {"bytes": size}


def _store_and_enqueue(data: bytes, user_id: str) -> str:
    path = _storage / uuid.uuid4().hex
    path.write_bytes(data)
    return str(_queue.enqueue(store_upload, file_path=str(path), user_id=user_id).id)


@app.post("/bench/rq", include_in_schema=False)
async def rq_upload(request: Request, user: CurrentUser) -> dict[str, Any]:
    """Parse the form, store the file, enqueue an RQ job: the old system's upload."""
    form = await request.form()
    upload = form["file"]
    assert isinstance(upload, UploadFile)
    data = await upload.read()
    job_id = await run_in_threadpool(_store_and_enqueue, data, user.user_id)
    return {"job_id": job_id}
