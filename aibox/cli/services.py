"""Long-running programs: the embedded server, a worker, the API, Flower, and all at once (up)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from aibox.errors import ConfigurationError
from aibox.logs import configure_logging, logging_config
from aibox.settings import get_settings


def server(
    port: Annotated[int | None, typer.Option(help="port; default: AIBOX_REDIS_URL's")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="default: var/redis")] = None,
) -> None:
    """Run the embedded Redis 8 + FalkorDB server in the foreground (Ctrl-C stops it)."""
    from aibox.server import run_foreground

    settings = get_settings()
    chosen = port or urlsplit(settings.redis_url).port or 6379
    raise typer.Exit(run_foreground(chosen, data_dir or settings.redis_data_path))


def worker(
    ctx: typer.Context,
    queues: Annotated[
        str | None,
        typer.Option("--queues", "-Q", help="comma-separated queues; default: all three"),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency", "-c", help="pool processes; default: AIBOX_WORKER_CONCURRENCY"
        ),
    ] = None,
    hostname: Annotated[
        str, typer.Option("--hostname", "-n", help="node name (Celery's %h is the host)")
    ] = "aibox@%h",
    loglevel: Annotated[
        str | None, typer.Option("--loglevel", "-l", help="default: AIBOX_LOG_LEVEL")
    ] = None,
) -> None:
    """Run a Celery worker as aibox runs it: `celery -A aibox worker` on QUEUES, with SIGTERM
    remapped to Celery's soft shutdown. Options Celery knows but this does not (e.g.
    --autoscale=4,1, --without-gossip) are passed through."""
    from aibox import queues as declared

    settings = get_settings()
    chosen = [q for q in (queues or ",".join(declared.QUEUES)).split(",") if q]
    if bad := declared.unknown(chosen):
        typer.echo(
            f"aibox worker: unknown queue(s) {', '.join(bad)}; the queues are "
            f"{', '.join(declared.QUEUES)}",
            err=True,
        )
        raise typer.Exit(2)
    argv = declared.worker_command(
        queues=chosen,
        concurrency=concurrency or settings.worker_concurrency,
        hostname=hostname,
        loglevel=loglevel or settings.log_level,
        extra=ctx.args,
    )
    env = {**os.environ, **declared.WORKER_ENV}
    os.execve(sys.executable, argv, env)  # noqa: S606 - become the worker; argv is ours


def api(
    host: Annotated[str | None, typer.Option(help="default: AIBOX_API_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: AIBOX_API_PORT")] = None,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
    proxy_headers: Annotated[bool, typer.Option(help="trust X-Forwarded-* headers")] = False,
) -> None:
    """Run the HTTP API (uvicorn) with aibox's logging."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "aibox.api.main:app",
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=workers,
        proxy_headers=proxy_headers,
        log_config=logging_config(),
    )


def flower(
    host: Annotated[str | None, typer.Option(help="default: AIBOX_FLOWER_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: AIBOX_FLOWER_PORT")] = None,
) -> None:
    """Run Flower on the aibox app: basic auth always on, state kept in AIBOX_VAR_DIR."""
    settings = get_settings()
    try:
        auth = settings.flower_basic_auth()
    except ConfigurationError as exc:
        typer.echo(f"aibox flower cannot start: {exc}", err=True)
        raise typer.Exit(1) from exc
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    # Credentials travel in the environment, not argv (which `ps` shows to every user).
    os.environ["FLOWER_BASIC_AUTH"] = auth
    argv = [
        sys.executable,
        "-m",
        "aibox.flower",
        f"--address={host or settings.flower_host}",
        f"--port={port or settings.flower_port}",
        "--persistent=True",
        f"--db={settings.var_dir.resolve() / 'flower.db'}",
        "--purge_offline_workers=300",
    ]
    os.execv(sys.executable, argv)  # noqa: S606 - become Flower; argv is ours


def up() -> None:
    """Start everything for development: Redis if needed, a worker, the API and Flower."""
    from aibox.devrun import up as run_up

    configure_logging()
    raise typer.Exit(run_up(get_settings()))
