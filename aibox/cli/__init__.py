"""The ``aibox`` command line: one module per group of commands."""

from __future__ import annotations

import typer

from aibox.cli import check, info, jobs, migrate, search, services, users

cli = typer.Typer(help="aibox: document processing on Celery and Redis.", no_args_is_help=True)
cli.command()(services.server)
cli.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(
    services.worker
)
cli.command()(services.api)
cli.command()(services.flower)
cli.command()(services.up)
cli.command()(jobs.submit)
cli.command()(jobs.status)
cli.command("retry-failed")(jobs.retry_failed)
cli.command()(info.info)
cli.command()(search.search)
cli.command()(search.reindex)
cli.command()(check.check)
cli.command("migrate-rq")(migrate.migrate_rq)
cli.add_typer(users.app, name="users", help="Manage user accounts and roles.")


def main() -> None:
    """Console-script entry point."""
    cli()
