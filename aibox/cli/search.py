"""``aibox search TEXT``: a user's best chunks for TEXT, as the search API finds them;
``aibox reindex``: the full-text index rebuilt from the stored chunks."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aibox import processing
from aibox.cli.users import UserOption, acting_user
from aibox.connections import get_redis
from aibox.pipeline.terms import file_terms
from aibox.search import MODES, Mode, describe, find, other_embedders, uses_vectors
from aibox.services import chunk_store, file_store, fulltext_index, user_store
from aibox.store.locks import FileLock

console = Console()


def search(
    text: str,
    user: UserOption = None,
    top: Annotated[int, typer.Option(min=1, max=100, help="how many chunks")] = 10,
    mode: Annotated[
        str, typer.Option(help=f"one of {', '.join(MODES)}: fused rankings or one alone")
    ] = "hybrid",
    graph: Annotated[
        bool, typer.Option("--graph", help="also rank by the knowledge graph and show it")
    ] = False,
) -> None:
    """Search USER's documents for TEXT: best chunks first, with file, score and text."""
    if mode not in MODES:
        console.print(f"[red]error:[/] --mode must be one of {', '.join(MODES)}")
        raise typer.Exit(2)
    chosen: Mode = mode
    user = acting_user(user)
    others = other_embedders(user) if uses_vectors(chosen) else {}
    if others:
        console.print(
            f"[yellow]warning:[/] some files are indexed with another embedder "
            f"({describe(others)}); only those indexed with {processing.embedder().id} are in "
            "the vector ranking"
        )
    results = find(user, text, top, mode=chosen, graph=graph)
    table = Table("score", "found by (rank)", "file", "chunk", "text")
    for found in results.found:
        snippet = " ".join(found.chunk.text.split())
        by = ", ".join(f"{name} {p.rank}" for name, p in found.found_by.items())
        table.add_row(
            f"{found.score:.3f}", by, found.filename, str(found.chunk.index), snippet[:200]
        )
    console.print(table)
    if results.graph is not None:
        names = ", ".join(f"{e.name} ({e.type})" for e in results.graph.entities) or "none"
        console.print(f"entities named in the query: {names}")
        relations = Table("source", "relation", "target", "evidence")
        for t in results.graph.relations:
            relations.add_row(t.source.name, t.type, t.target.name, t.evidence[:120])
        if results.graph.relations:
            console.print(relations)


def reindex(
    user: Annotated[
        str | None, typer.Option(help="only this user's files (default: every user's)")
    ] = None,
) -> None:
    """Rebuild the full-text index from the stored chunks (after upgrading to a version with
    full-text search, or after changing the analyzer). A file a job holds is skipped: the job
    indexes it itself."""
    users = [user] if user else [u.user_id for u in user_store().all()]
    done = busy = 0
    for user_id in users:
        offset = 0
        while page := file_store().list_for_user(user_id, offset=offset, limit=200):
            offset += len(page)
            for record in page:
                lock = FileLock(get_redis(), record.file_id, f"reindex-{uuid.uuid4().hex}", 60)
                if not lock.acquire():
                    busy += 1
                    continue
                try:
                    chunks = chunk_store().load(record.file_id)
                    fulltext_index().replace(user_id, record.file_id, file_terms(chunks))
                    done += 1
                finally:
                    lock.release()
    console.print(f"re-indexed {done} files" + (f"; {busy} held by running jobs" if busy else ""))
