"""``aibox check``: exit 0 only when Redis answers and every queue is really being consumed.

Three checks, one output line each, ``ok`` or ``FAIL``:

1. **redis** — the data server and the broker answer PING (nothing else is tried otherwise).
2. **consumers** — ``celery inspect active_queues``: each queue has at least one worker.
3. **consuming** — a ping only proves a worker's main thread; so a no-op probe task
   (``aibox.check.probe``, registered in the app, see ``aibox/tasks/probe.py``) is published on
   each queue that has consumers, with ``expires`` = ``--timeout``, and must write its key
   within that time. A probe that waited in vain is judged by what the queue's consumers run:
   if one of them has a free pool slot it should have taken the probe — FAIL (stuck consumer);
   if every slot runs a job (a backlog of long documents) the queue is *busy*, which is ok,
   unless a job has been running longer than ``AIBOX_TASK_TIME_LIMIT_S`` plus a minute, which
   the pool should have killed — FAIL.

Probes are no jobs: they are kept out of the job registry and the metrics, store no result,
and an expired one is discarded by whichever worker receives it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import redis
import typer

from aibox import keys
from aibox.celery_app import app as celery_app
from aibox.connections import get_redis
from aibox.monitoring.broker import open_broker
from aibox.queues import QUEUES
from aibox.settings import get_settings
from aibox.tasks.probe import probe

_OVERDUE_GRACE_S = 60.0
_POLL_S = 0.1


@dataclass(frozen=True)
class Result:
    """The outcome of one check."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        """``ok    name: detail`` or ``FAIL  name: detail``."""
        return f"{'ok' if self.ok else 'FAIL':<5} {self.name}: {self.detail}"


def check_redis(timeout_s: float) -> list[Result]:
    """PING the data server and the broker."""
    settings = get_settings()
    results = []
    for name, ping in (
        ("redis data", lambda: get_redis().ping()),
        ("redis broker", lambda: _ping_url(settings.broker, timeout_s)),
    ):
        results.append(_attempt(name, ping))
    return results


def _ping_url(url: str, timeout_s: float) -> Any:
    with redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s) as c:
        return c.ping()


def _attempt(name: str, ping: Callable[[], Any]) -> Result:
    try:
        ping()
    except redis.RedisError as exc:
        return Result(name, False, f"no answer: {exc}")
    return Result(name, True, "answers PING")


def consumers_by_queue(queues: tuple[str, ...], timeout_s: float) -> dict[str, list[str]]:
    """The workers consuming each queue, from ``inspect active_queues``."""
    replies: dict[str, list[dict[str, Any]]] = (
        celery_app.control.inspect(timeout=timeout_s).active_queues() or {}
    )
    found: dict[str, list[str]] = {queue: [] for queue in queues}
    for node, consumed in sorted(replies.items()):
        for entry in consumed:
            if entry.get("name") in found:
                found[entry["name"]].append(node)
    return found


def run_probes(queues: list[str], timeout_s: float) -> dict[str, tuple[str, float] | None]:
    """Publish a probe on each queue; who ran each and after how long (None: not in time)."""
    client = get_redis()
    started = time.monotonic()
    pending: dict[str, str] = {}
    for queue in queues:
        probe_id = uuid.uuid4().hex
        probe.apply_async(args=[probe_id], queue=queue, expires=timeout_s)
        pending[queue] = probe_id
    done: dict[str, tuple[str, float] | None] = dict.fromkeys(queues)
    deadline = started + timeout_s
    while pending and time.monotonic() < deadline:
        for queue, probe_id in list(pending.items()):
            node = client.get(keys.check_probe(probe_id))
            if node is not None:
                done[queue] = (str(node), time.monotonic() - started)
                client.delete(keys.check_probe(probe_id))
                del pending[queue]
        time.sleep(_POLL_S)
    return done


def judge_unanswered(queue: str, nodes: list[str], timeout_s: float, waited_s: float) -> Result:
    """Why a probe was not taken: the consumers are all busy (ok) or one is stuck (FAIL)."""
    inspect = celery_app.control.inspect(destination=nodes, timeout=timeout_s, limit=len(nodes))
    active: dict[str, list[dict[str, Any]]] = inspect.active() or {}
    stats: dict[str, dict[str, Any]] = inspect.stats() or {}
    limit_s = get_settings().task_time_limit_s + _OVERDUE_GRACE_S
    now = time.time()
    longest = 0.0
    for node in nodes:
        running = active.get(node)
        if running is None or node not in stats:
            return Result(f"consuming {queue}", False, f"{node} stopped answering")
        slots = int((stats[node].get("pool") or {}).get("max-concurrency") or 1)
        if len(running) < slots:
            return Result(
                f"consuming {queue}",
                False,
                f"probe not taken in {waited_s:.0f}s although {node} runs "
                f"{len(running)} of {slots} slots: the worker is not consuming",
            )
        for request in running:
            began = request.get("time_start")
            if isinstance(began, (int, float)):
                longest = max(longest, now - began)
    if longest > limit_s:
        return Result(
            f"consuming {queue}",
            False,
            f"a job has run {longest:.0f}s, past the {limit_s:.0f}s time limit: stuck",
        )
    with open_broker(celery_app) as broker:
        waiting = broker.lengths([queue])[queue]
    return Result(
        f"consuming {queue}",
        True,
        f"busy: every slot of {', '.join(nodes)} runs a job (longest {longest:.0f}s), "
        f"{waiting} messages waiting",
    )


def run_checks(queues: tuple[str, ...], timeout_s: float) -> list[Result]:
    """Every check, in order; later checks are skipped when Redis does not answer."""
    results = check_redis(timeout_s)
    if not all(r.ok for r in results):
        return results
    reply_s = min(2.0, timeout_s)
    consumers = consumers_by_queue(queues, reply_s)
    for queue in queues:
        nodes = consumers[queue]
        detail = f"{len(nodes)} worker(s): {', '.join(nodes)}" if nodes else "no worker consumes it"
        results.append(Result(f"consumers {queue}", bool(nodes), detail))
    probed = [q for q in queues if consumers[q]]
    outcomes = run_probes(probed, timeout_s) if probed else {}
    for queue in probed:
        outcome = outcomes[queue]
        if outcome is None:
            results.append(judge_unanswered(queue, consumers[queue], reply_s, timeout_s))
        else:
            node, elapsed = outcome
            results.append(
                Result(f"consuming {queue}", True, f"probe run by {node} in {elapsed:.2f}s")
            )
    return results


def check(
    queue: Annotated[
        list[str] | None,
        typer.Option(
            "--queue", "-Q", help="check only this queue (repeatable, or comma-separated)"
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="seconds a probe may take")] = 10.0,
    wait: Annotated[
        float, typer.Option(help="retry failing checks for this many seconds (worker start-up)")
    ] = 0.0,
) -> None:
    """Exit 0 only if Redis answers and every queue has workers that really consume it."""
    names = (name.strip() for value in queue or () for name in value.split(","))
    chosen = tuple(dict.fromkeys(name for name in names if name))
    unknown = sorted(set(chosen) - set(QUEUES))
    if unknown:
        typer.echo(
            f"FAIL  queues: unknown {', '.join(unknown)}; the queues are {', '.join(QUEUES)}"
        )
        raise typer.Exit(2)
    deadline = time.monotonic() + wait
    while True:
        results = run_checks(chosen or QUEUES, timeout)
        passed = all(r.ok for r in results)
        if passed or time.monotonic() >= deadline:
            break
        time.sleep(2.0)
    for result in results:
        typer.echo(result.line())
    raise typer.Exit(0 if passed else 1)
