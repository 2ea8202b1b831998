"""``aibox search TEXT``: a user's chunks most similar to TEXT, as the search API finds them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aibox.pipeline import runtime
from aibox.pipeline.chunkstore import chunk_id
from aibox.services import chunk_store, file_store, user_store, vector_index

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
    embedder = runtime.embedder()
    index = vector_index()
    stale = {e: n for e, n in index.embedders_in_use(user).items() if e != embedder.id}
    if stale:
        listing = ", ".join(f"{n} with {e}" for e, n in sorted(stale.items()))
        console.print(
            f"[yellow]warning:[/] some files are indexed with another embedder ({listing}); "
            f"only those indexed with {embedder.id} are searched"
        )
    hits = index.search(user, embedder.id, embedder.embed([text])[0], top, None)
    texts = chunk_store().get_many(chunk_id(h.file_id, h.chunk_index) for h in hits)
    table = Table("score", "file", "chunk", "text")
    for hit in hits:
        chunk = texts.get(chunk_id(hit.file_id, hit.chunk_index))
        record = file_store().get_owned(hit.file_id, user)
        if chunk is None or record is None:
            continue  # a file being deleted
        snippet = " ".join(chunk.text.split())
        table.add_row(f"{hit.score:.3f}", record.filename, str(chunk.index), snippet[:200])
    console.print(table)
