"""``vectorization`` queue: re-embed a file's chunks into the vector index."""

from __future__ import annotations

from typing import Any

from aibox import processing
from aibox.celery_app import app
from aibox.queues import VECTORIZE_TASK
from aibox.tasks.base import FileTask


@app.task(
    bind=True,
    base=FileTask,
    name=VECTORIZE_TASK,
    stages=("vectorization", "storage"),
)
def process_vectorization_only_task(
    self: FileTask,
    file_id: str,
    file_path: str | None = None,
    file_type: str | None = None,
    user_id: str | None = None,
    force_rechunk: bool = False,
) -> dict[str, Any]:
    """(Re)embed a file's stored chunks; with ``force_rechunk``, parse and chunk it again."""
    record = self.begin(file_id, user_id=user_id, file_path=file_path)
    summary = processing.vectorize_file(
        processing.pipeline(), record, self.reporter(file_id), force_rechunk=force_rechunk
    )
    return self.complete(record, summary)
