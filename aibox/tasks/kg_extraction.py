"""``kg_extraction`` queue: re-extract a file's knowledge graph (NER → RE → RT)."""

from __future__ import annotations

from typing import Any

from aibox import processing
from aibox.celery_app import app
from aibox.queues import EXTRACT_GRAPH_TASK
from aibox.tasks.base import FileTask


@app.task(bind=True, base=FileTask, name=EXTRACT_GRAPH_TASK, stages=("kg_extraction",))
def process_kg_extraction_only_task(
    self: FileTask,
    file_id: str,
    file_path: str | None = None,
    file_type: str | None = None,
    user_id: str | None = None,
    force_rechunk: bool = False,
) -> dict[str, Any]:
    """Extract entities and relations from a file's chunks and replace its graph part; with
    ``force_rechunk``, parse and chunk it again first (and re-embed the new chunks)."""
    record = self.begin(file_id, user_id=user_id, file_path=file_path)
    summary = processing.extract_graph(
        processing.pipeline(),
        record,
        self.reporter(file_id),
        self.request.id,
        force_rechunk=force_rechunk,
    )
    return self.complete(record, summary)
