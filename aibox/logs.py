"""One logging setup for the API, the worker and the CLI.

Lines from inside a Celery task carry the job id and the file id it works on.
"""

from __future__ import annotations

import logging
import logging.config
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


def logging_config(level: Any = None) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` setup every aibox process uses (also given to uvicorn).

    One stderr handler on the root logger with the task context; uvicorn's loggers hand their
    records to it instead of keeping formats of their own.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"task_context": {"()": TaskContextFilter}},
        "formatters": {"aibox": {"format": FORMAT}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "filters": ["task_context"],
                "formatter": "aibox",
            }
        },
        "root": {"handlers": ["stderr"], "level": level or get_settings().log_level},
        "loggers": {
            name: {"handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def configure_logging(level: Any = None) -> None:
    """Log to stderr with the task context, at ``level`` or the configured level."""
    logging.config.dictConfig(logging_config(level))
