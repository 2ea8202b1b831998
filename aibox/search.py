"""Semantic search over one user's files: what the API's ``/search`` and ``aibox search`` share.

Vectors of different embedders never mix (one vector set per user and embedder), so a search
can only reach the files indexed with the embedder configured now; ``other_embedders`` tells
the caller which files it would miss, and the caller decides whether that is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aibox.pipeline import runtime
from aibox.pipeline.chunkstore import chunk_id
from aibox.pipeline.types import Chunk
from aibox.services import chunk_store, file_store, vector_index


@dataclass(frozen=True, slots=True)
class Found:
    """One result: a chunk of one of the user's files and its similarity score."""

    chunk: Chunk
    file_id: str
    filename: str
    score: float


def other_embedders(user_id: str) -> dict[str, int]:
    """Embedder id -> number of the user's files indexed with it, for every other embedder."""
    current = runtime.embedder().id
    return {e: n for e, n in vector_index().embedders_in_use(user_id).items() if e != current}


def describe(others: dict[str, int]) -> str:
    """``"3 with hashing-384, 1 with …"``, for messages about ``other_embedders``."""
    return ", ".join(f"{n} with {e}" for e, n in sorted(others.items()))


def find(user_id: str, query: str, k: int, file_ids: Sequence[str] | None = None) -> list[Found]:
    """The ``k`` chunks of the user's files most similar to ``query``, best first."""
    embedder = runtime.embedder()
    vector = embedder.embed([query])[0]
    hits = vector_index().search(user_id, embedder.id, vector, k, file_ids)
    texts = chunk_store().get_many(chunk_id(h.file_id, h.chunk_index) for h in hits)
    names: dict[str, str | None] = {}
    found = []
    for hit in hits:
        if hit.file_id not in names:
            record = file_store().get_owned(hit.file_id, user_id)
            names[hit.file_id] = record.filename if record else None
        chunk = texts.get(chunk_id(hit.file_id, hit.chunk_index))
        filename = names[hit.file_id]
        if chunk is None or filename is None:
            continue  # a file being deleted: its vectors go last
        found.append(Found(chunk, hit.file_id, filename, hit.score))
    return found
