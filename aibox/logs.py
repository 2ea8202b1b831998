"""One logging setup for the API, the worker and the CLI.

Lines from inside a Celery task carry the job id and the file id it works on.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from aibox.settings import get_settings

FORMAT = (
    "%(asctime)s %(levelname)s %(processName)s %(name)s "
    "[job=%(job_id)s file=%(file_id)s] %(message)s"
)


class TaskContextFilter(logging.Filter):
    """Adds ``job_id`` and ``file_id`` from the running Celery task (``-`` outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from celery import current_task

        job_id = file_id = "-"
        if current_task and current_task.request.id:  # the proxy is falsy outside a task
            job_id = current_task.request.id
            file_id = (current_task.request.kwargs or {}).get("file_id", "-")
        record.job_id = getattr(record, "job_id", job_id)
        record.file_id = getattr(record, "file_id", file_id)
        return True


def configure_logging(level: Any = None) -> None:
    """Log to stderr with the task context, at ``level`` or the configured level."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_aibox", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._aibox = True  # type: ignore[attr-defined]
    handler.addFilter(TaskContextFilter())
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(level or get_settings().log_level)
