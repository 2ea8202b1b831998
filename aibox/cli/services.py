"""``aibox server`` and ``aibox up``: run the embedded server, or everything for development."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from aibox.logs import configure_logging
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


def up() -> None:
    """Start everything for development: Redis if needed, a worker, the API and Flower."""
    from aibox.devrun import up as run_up

    configure_logging()
    raise typer.Exit(run_up(get_settings()))
