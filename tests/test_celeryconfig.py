"""The Celery configuration as loaded: reliability values and only real setting names."""

from __future__ import annotations

from celery.app.defaults import DEFAULTS

import aibox.tasks  # noqa: F401 - registers the tasks
import celeryconfig
from aibox import app
from aibox.settings import get_settings

# Celery's Redis docs ask for `visibility_timeout` at the top level as well (celery#7651);
# it is not among Celery's declared defaults.
_UNDECLARED_ON_PURPOSE = {"visibility_timeout"}


def _config_keys() -> set[str]:
    return {k for k in vars(celeryconfig) if k.islower() and not k.startswith("_")} - {
        "annotations",
        "Exchange",
        "Queue",
        "get_settings",
        "QUEUES",
    }


def test_every_key_is_a_celery_setting() -> None:
    unknown = _config_keys() - set(DEFAULTS) - _UNDECLARED_ON_PURPOSE
    assert not unknown, f"not Celery settings (typos or outdated names): {sorted(unknown)}"


def test_reliability_settings() -> None:
    conf = app.conf
    settings = get_settings()
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_track_started is True
    assert conf.result_extended is True
    assert conf.worker_send_task_events is True
    assert conf.task_send_sent_event is True
    assert conf.broker_connection_retry_on_startup is True
    assert conf.worker_soft_shutdown_timeout == settings.worker_soft_shutdown_timeout_s > 0


def test_json_only() -> None:
    conf = app.conf
    assert list(conf.accept_content) == ["json"]
    assert list(conf.result_accept_content) == ["json"]
    assert conf.task_serializer == conf.result_serializer == conf.event_serializer == "json"


def test_one_short_visibility_timeout_with_leases_and_a_fast_sweep() -> None:
    conf = app.conf
    settings = get_settings()
    timeout = settings.visibility_timeout_s
    assert conf.broker_transport_options["visibility_timeout"] == timeout
    assert conf.result_backend_transport_options["visibility_timeout"] == timeout
    assert conf.visibility_timeout == timeout
    # The redelivery bound documented in README and aibox/lease.py.
    bound = timeout + settings.restore_sweep_interval_s + settings.lease_interval_s
    assert bound < 60
    assert conf.broker_transport_options["unacked_restore_interval"] == (
        settings.restore_sweep_interval_s
    )
    assert conf.broker_transport_options["unacked_restore_throttle"] == 1
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    assert "aibox.lease.LeaseRenewal" in {
        f"{s.__module__}.{s.__name__}" for s in app.steps["consumer"]
    }


def test_three_queues_routed_by_task_name() -> None:
    conf = app.conf
    assert [q.name for q in conf.task_queues] == [
        "file_processing",
        "vectorization",
        "kg_extraction",
    ]
    router = app.amqp.router
    expected = {
        "process_file_chunking_and_vectorization_task": "file_processing",
        "process_vectorization_only_task": "vectorization",
        "process_kg_extraction_only_task": "kg_extraction",
    }
    for task_name, queue in expected.items():
        assert task_name in app.tasks
        assert router.route({}, task_name)["queue"].name == queue


def test_urls_come_from_settings() -> None:
    settings = get_settings()
    assert app.conf.broker_url == settings.broker
    assert app.conf.result_backend.endswith(settings.result_backend)
    assert type(app.backend).__module__ == "aibox.results"
