"""Celery configuration: a translation of ``aibox.settings`` into Celery's keys, nothing more.

Every value here comes from :class:`aibox.settings.Settings`; see DESIGN.md ("Reliability
settings") for why each reliability key is set the way it is.
"""

from __future__ import annotations

from kombu import Exchange, Queue

from aibox.queues import DEFAULT_QUEUE, QUEUES, ROUTES
from aibox.settings import get_settings

_settings = get_settings()

# Routing: one direct exchange and queue per name; tasks routed by their (seed) names, both
# declared in aibox/queues.py.
task_queues = tuple(Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES)
task_default_queue = DEFAULT_QUEUE
task_routes = {task: {"queue": queue} for task, queue in ROUTES.items()}
task_create_missing_queues = False

# Broker and results. The results backend is a subclass that does not subscribe a pub/sub
# channel on every apply_async (celery/celery#6963): see aibox/results.py.
broker_url = _settings.broker
result_backend = f"aibox.results:RedisBackend+{_settings.result_backend}"
broker_connection_retry_on_startup = True
broker_connection_retry = True
broker_connection_max_retries = None

# One short visibility timeout, in all three places. Workers renew a lease on every message
# they hold (aibox/lease.py), so tasks may run far longer than it without a second delivery;
# each worker sweeps for expired ones every restore_sweep_interval_s (throttle 1: every time).
visibility_timeout = _settings.visibility_timeout_s
broker_transport_options = {
    "visibility_timeout": _settings.visibility_timeout_s,
    "unacked_restore_interval": _settings.restore_sweep_interval_s,
    "unacked_restore_throttle": 1,
}
result_backend_transport_options = {"visibility_timeout": _settings.visibility_timeout_s}
task_soft_time_limit = _settings.task_soft_time_limit_s
task_time_limit = _settings.task_time_limit_s

# JSON only: nothing that can run code when read.
task_serializer = "json"
result_serializer = "json"
event_serializer = "json"
accept_content = ("json",)
result_accept_content = ("json",)

# At-least-once delivery for long tasks.
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
worker_cancel_long_running_tasks_on_connection_loss = True
# On SIGTERM (remapped to SIGQUIT, see README) running tasks get this long, then their messages
# go back. Celery waits the whole timeout even if they finish sooner; an idle worker (nothing
# running; prefetched or ETA messages are restored on close) stops at once.
worker_soft_shutdown_timeout = _settings.worker_soft_shutdown_timeout_s
worker_enable_soft_shutdown_on_idle = False

# Visibility: Flower and the job registry see every state.
task_track_started = True
result_extended = True
worker_send_task_events = True
task_send_sent_event = True
result_expires = _settings.result_ttl_s
task_remote_tracebacks = False

# aibox configures logging itself (aibox/logs.py, via the setup_logging signal).
worker_hijack_root_logger = False
worker_redirect_stdouts = False
