"""The queues, the task names, which task goes to which queue, and the worker's command line.

Declared once: ``celeryconfig.py`` routes with them, the tasks are named by them, submission
and monitoring list them, and ``aibox worker`` (what ``make run``, the systemd unit,
supervisor, compose and the tests start) builds its command line here. The names are the old
RQ system's, kept so its operators' habits and scripts carry over.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence

FILE_PROCESSING = "file_processing"
VECTORIZATION = "vectorization"
KG_EXTRACTION = "kg_extraction"
QUEUES: tuple[str, ...] = (FILE_PROCESSING, VECTORIZATION, KG_EXTRACTION)

PROCESS_FILE_TASK = "process_file_chunking_and_vectorization_task"
VECTORIZE_TASK = "process_vectorization_only_task"
EXTRACT_GRAPH_TASK = "process_kg_extraction_only_task"
#: ``aibox check``'s no-op, published with an explicit queue (it has no route of its own).
PROBE_TASK = "aibox.check.probe"

#: Task name -> the queue it is routed to.
ROUTES: dict[str, str] = {
    PROCESS_FILE_TASK: FILE_PROCESSING,
    VECTORIZE_TASK: VECTORIZATION,
    EXTRACT_GRAPH_TASK: KG_EXTRACTION,
}
DEFAULT_QUEUE = FILE_PROCESSING

#: What a worker's environment needs: SIGTERM (systemd, supervisor, docker stop) becomes
#: Celery's soft shutdown, which returns running tasks' messages after the soft-shutdown
#: timeout; Celery's own SIGTERM (warm shutdown) would wait for them however long they run.
WORKER_ENV = {"REMAP_SIGTERM": "SIGQUIT"}


def unknown(names: Iterable[str]) -> list[str]:
    """The names among ``names`` that are not queues, sorted."""
    return sorted(set(names) - set(QUEUES))


def worker_command(
    *,
    queues: Sequence[str] = QUEUES,
    concurrency: int,
    hostname: str,
    loglevel: str,
    extra: Sequence[str] = (),
) -> list[str]:
    """``python -m celery -A aibox worker`` on ``queues``, with aibox's options."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "aibox",
        "worker",
        "--queues",
        ",".join(queues),
        "--concurrency",
        str(concurrency),
        "--hostname",
        hostname,
        "--loglevel",
        loglevel,
        "--pool",
        "prefork",
        *extra,
    ]
