"""aibox's API app plus two comparison endpoints, served by one uvicorn process.

``uvicorn bench.apps.api_app:app``. Beside aibox's real ``POST /api/v1/files``:

- ``POST /bench/bare`` reads the request body and answers its size: the limit of this server.
- ``POST /bench/rq`` does what the replaced RQ system did for an upload: parse the multipart
  form, write the file to disk and ``Queue.enqueue`` a job for it (same authentication as
  aibox's endpoint).

Diagnostic, not aibox: with ``BENCH_PRIORITY_BY_USER=1`` (and ``AIBOX_FAIR_SCHEDULING=false``)
every job aibox publishes gets a kombu priority from its user's backlog, the candidate the
fairness scenario measures beside aibox's ring of users: ``priority = min(queued - 1, 9)``,
where ``queued`` is the user's jobs queued on the job's queue, this one included (the registry
records a job before it is published). Kombu's Redis transport keeps one list per priority
step (0, 3, 6, 9: a priority goes to the step at or below it) and workers take from the
lowest number first, so a user with nothing queued skips everyone's backlog.
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


def _priority_by_user() -> None:
    """Wrap each job task's ``apply_async`` (this process only) to add the user's priority."""
    from aibox import submit
    from aibox.services import job_registry

    if get_settings().fair_scheduling:
        raise RuntimeError("BENCH_PRIORITY_BY_USER=1 needs AIBOX_FAIR_SCHEDULING=false")
    for task in submit.TASKS.values():
        queue = submit.queue_of(task)

        def apply_async(
            *args: Any, _original: Any = task.apply_async, _queue: str = queue, **options: Any
        ) -> Any:
            user_id = (options.get("kwargs") or {}).get("user_id")
            if user_id and options.get("priority") is None:
                queued = job_registry().queued_of_user(user_id, _queue)
                options["priority"] = max(0, min(queued - 1, 9))
            return _original(*args, **options)

        task.apply_async = apply_async


if os.environ.get("BENCH_PRIORITY_BY_USER") == "1":
    _priority_by_user()

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
