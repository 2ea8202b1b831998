"""The three Celery tasks, one per queue, under the old system's names; and the check probe."""

from aibox.tasks.file_processing import process_file_chunking_and_vectorization_task
from aibox.tasks.kg_extraction import process_kg_extraction_only_task
from aibox.tasks.probe import probe
from aibox.tasks.vectorization import process_vectorization_only_task

__all__ = [
    "probe",
    "process_file_chunking_and_vectorization_task",
    "process_kg_extraction_only_task",
    "process_vectorization_only_task",
]
