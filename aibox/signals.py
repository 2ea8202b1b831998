"""Celery signal handlers: the job registry's writers, logging setup and per-process warm-up.

Imported by ``aibox.celery_app`` so that every process using the app — API, worker, Flower,
CLI — records the jobs it publishes.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Task, signals
from redis.exceptions import RedisError

from aibox.errors import ServerCapabilityError, describe_error
from aibox.logs import configure_logging
from aibox.metrics import task_timer
from aibox.services import job_registry
from aibox.store.registry import recorded_by_publisher

logger = logging.getLogger(__name__)


def _tracked(task_name: str | None) -> bool:
    # Celery's own tasks and ``aibox check``'s probes are no jobs.
    return bool(task_name) and not str(task_name).startswith(("celery.", "aibox.check."))


def _queue_of(task: Task) -> str:
    info = task.request.delivery_info or {}
    return str(info.get("routing_key") or task.queue or "unknown")


@signals.before_task_publish.connect
def _on_publish(
    sender: str | None = None,
    body: Any = None,
    routing_key: str | None = None,
    headers: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    if not _tracked(sender) or not headers or headers["id"] == recorded_by_publisher.get():
        return
    args = body[0] if isinstance(body, (list, tuple)) and body else []
    kwargs = body[1] if isinstance(body, (list, tuple)) and len(body) > 1 else {}
    job_registry().published(
        headers["id"],
        task=str(sender),
        queue=routing_key or "unknown",
        file_id=kwargs.get("file_id"),
        user_id=kwargs.get("user_id"),
        args=args,
        kwargs=kwargs,
    )


@signals.task_prerun.connect
def _on_prerun(sender: Task | None = None, task_id: str | None = None, **_: Any) -> None:
    if sender is None or task_id is None or not _tracked(sender.name):
        return
    job_registry().started(
        task_id, queue=_queue_of(sender), task=sender.name, worker=sender.request.hostname
    )


@signals.task_prerun.connect
def _on_prerun_time(sender: Task | None = None, task_id: str | None = None, **_: Any) -> None:
    if sender is not None and task_id is not None and _tracked(sender.name):
        task_timer.start(task_id)


@signals.task_postrun.connect
def _on_postrun_time(sender: Task | None = None, task_id: str | None = None, **_: Any) -> None:
    if sender is not None and task_id is not None and _tracked(sender.name):
        task_timer.stop(sender.name, task_id)


@signals.task_success.connect
def _on_success(sender: Task | None = None, **_: Any) -> None:
    if sender is None or not _tracked(sender.name):
        return
    job_registry().finished(sender.request.id, queue=_queue_of(sender))


@signals.task_failure.connect
def _on_failure(
    sender: Task | None = None,
    task_id: str | None = None,
    exception: BaseException | None = None,
    einfo: Any = None,
    **_: Any,
) -> None:
    if sender is None or task_id is None or not _tracked(sender.name):
        return
    job_registry().failed(
        task_id,
        queue=_queue_of(sender),
        error=describe_error(exception),
        traceback=str(einfo.traceback) if einfo is not None else None,
    )


@signals.task_retry.connect
def _on_retry(request: Any = None, reason: Any = None, **_: Any) -> None:
    if request is None or not _tracked(getattr(request, "task", None)):
        return
    job_registry().retrying(request.id, error=str(reason))


@signals.task_revoked.connect
def _on_revoked(sender: Task | None = None, request: Any = None, **_: Any) -> None:
    if sender is None or request is None or not _tracked(sender.name):
        return
    info = getattr(request, "delivery_info", None) or {}
    job_registry().revoked(request.id, queue=str(info.get("routing_key") or "unknown"))


@signals.setup_logging.connect
def _on_setup_logging(loglevel: Any = None, **_: Any) -> None:
    configure_logging(loglevel)


@signals.worker_process_init.connect
def _on_worker_process_init(**_: Any) -> None:
    from aibox.processing import warm_up

    warm_up()


@signals.worker_init.connect
def _on_worker_init(**_: Any) -> None:
    """Refuse to run against a server that lacks vector sets or FalkorDB."""
    from aibox.connections import check_capabilities, get_redis

    if os.environ.get("REMAP_SIGTERM") != "SIGQUIT":
        logger.warning(
            "REMAP_SIGTERM is not SIGQUIT: on SIGTERM this worker waits for running tasks "
            "without limit instead of returning them to the queue after "
            "AIBOX_WORKER_SOFT_SHUTDOWN_TIMEOUT_S; set REMAP_SIGTERM=SIGQUIT in its environment"
        )
    try:
        check_capabilities(get_redis())
    except ServerCapabilityError as exc:
        logger.critical("aibox worker cannot start: %s", exc)
        raise SystemExit(1) from exc
    except RedisError:
        logger.warning("Redis is not reachable yet; the worker will retry connecting")
