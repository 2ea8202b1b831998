"""``aibox search TEXT``: a user's chunks most similar to TEXT, as the search API finds them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aibox.pipeline import runtime
from aibox.search import describe, find, other_embedders
from aibox.services import user_store

console = Console()


def search(
    text: str,
    user: Annotated[str, typer.Option(help="whose files to search")] = "local",
    top: Annotated[int, typer.Option(min=1, max=100, help="how many chunks")] = 10,
) -> None:
    """Search USER's documents for TEXT: best chunks first, with file, score and text."""
    if user_store().get(user) is None:
        console.print(f"[red]error:[/] no account {user!r}")
        raise typer.Exit(1)
    others = other_embedders(user)
    if others:
        console.print(
            f"[yellow]warning:[/] some files are indexed with another embedder "
            f"({describe(others)}); only those indexed with {runtime.embedder().id} are searched"
        )
    table = Table("score", "file", "chunk", "text")
    for found in find(user, text, top):
        snippet = " ".join(found.chunk.text.split())
        table.add_row(f"{found.score:.3f}", found.filename, str(found.chunk.index), snippet[:200])
    console.print(table)
