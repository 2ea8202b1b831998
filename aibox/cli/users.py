"""``aibox users add|list|remove|passwd``: accounts and roles. Passwords are never echoed."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aibox.auth.users import ROLES
from aibox.errors import AiboxError
from aibox.services import user_store

app = typer.Typer(no_args_is_help=True)
console = Console()


#: ``--user`` of the commands that act for an account (submit, search): default the only one.
UserOption = Annotated[
    str | None,
    typer.Option(
        "--user", help="the account to act for; default: the only account, when there is one"
    ),
]


def acting_user(user: str | None) -> str:
    """The account a command acts for: ``--user``, else the only account there is (after
    ``make run``, the ``admin`` it created). Exits with a message saying what to do."""
    if user is not None:
        if user_store().get(user) is None:
            console.print(f"[red]error:[/] no account {user!r}: create it with `aibox users add`")
            raise typer.Exit(1)
        return user
    names = [account.user_id for account in user_store().all()]
    if len(names) == 1:
        return names[0]
    if not names:
        console.print("[red]error:[/] no account yet: create one with `aibox users add NAME`")
    else:
        shown = ", ".join(sorted(names)[:5]) + (", ..." if len(names) > 5 else "")
        console.print(f"[red]error:[/] {len(names)} accounts ({shown}): choose one with --user")
    raise typer.Exit(1)


def _password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _fail(exc: AiboxError) -> typer.Exit:
    console.print(f"[red]error:[/] {exc}")
    return typer.Exit(1)


@app.command("add")
def add(
    username: str,
    role: Annotated[str, typer.Option(help=f"one of: {', '.join(ROLES)}")] = "user",
    password_stdin: Annotated[bool, typer.Option(help="read the password from stdin")] = False,
) -> None:
    """Create an account."""
    if role not in ROLES:
        raise _fail(AiboxError(f"role must be one of: {', '.join(ROLES)}"))
    try:
        user = user_store().add(username, _password(password_stdin), role=role)
    except AiboxError as exc:
        raise _fail(exc) from exc
    console.print(f"created {user.user_id} ({user.role})")


@app.command("list")
def list_users() -> None:
    """Show every account and its role."""
    table = Table("user", "role")
    for user in user_store().all():
        table.add_row(user.user_id, user.role)
    console.print(table)


@app.command("remove")
def remove(username: str) -> None:
    """Delete an account (its files stay until deleted)."""
    try:
        user_store().remove(username)
    except AiboxError as exc:
        raise _fail(exc) from exc
    console.print(f"removed {username}")


@app.command("passwd")
def passwd(
    username: str,
    password_stdin: Annotated[bool, typer.Option(help="read the password from stdin")] = False,
) -> None:
    """Set an account's password."""
    try:
        user_store().set_password(username, _password(password_stdin))
    except AiboxError as exc:
        raise _fail(exc) from exc
    console.print(f"password changed for {username}")
