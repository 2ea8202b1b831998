"""``file_processing`` queue: the full pipeline for a newly uploaded file."""

from __future__ import annotations

from typing import Any

from aibox import processing
from aibox.celery_app import app
from aibox.queues import PROCESS_FILE_TASK
from aibox.store.status import STAGES
from aibox.tasks.base import FileTask


@app.task(bind=True, base=FileTask, name=PROCESS_FILE_TASK, stages=STAGES)
def process_file_chunking_and_vectorization_task(
    self: FileTask,
    file_id: str,
    file_path: str | None = None,
    file_type: str | None = None,
    user_id: str | None = None,
    force_rechunk: bool = True,
) -> dict[str, Any]:
    """Parse, chunk, embed, index and extract the knowledge graph of one file.

    ``file_path``, ``file_type`` and ``user_id`` are the old system's arguments: checked
    against the stored record, which is what the task works from.
    """
    record = self.begin(file_id, user_id=user_id, file_path=file_path)
    summary = processing.process_file(
        processing.pipeline(), record, self.reporter(file_id), self.request.id
    )
    return self.complete(record, summary)
