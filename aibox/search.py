"""Search over one user's files: what the API's ``/search`` and ``aibox search`` share.

Three rankings of the user's chunks, each asked for its best ``depth`` candidates:

- ``fulltext``: BM25 over the chunks' terms (:mod:`aibox.store.fulltext`), English and
  Chinese (Traditional and Simplified alike);
- ``vector``: similarity of the query's embedding in the user's vector set;
- ``graph`` (on request): chunks holding the entities the query names and their relations.

``mode="hybrid"`` (the default) fuses them (:mod:`aibox.pipeline.fusion`: relative score
fusion by default; the method and the weights are settings, and a ranking of weight 0 is not
computed); ``vector`` and ``fulltext`` use one alone, scored by that ranking's own score.
Every result says which rankings found it, at what rank and with what score.

Vectors of different embedders never mix (one vector set per user and embedder), so the vector
ranking can only reach files indexed with the embedder configured now; ``other_embedders``
tells the caller which files it would miss, and the caller decides whether that is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from aibox import processing
from aibox.pipeline.fusion import Fused, Placed, fuse
from aibox.pipeline.terms import analyze
from aibox.pipeline.types import Chunk
from aibox.search_graph import GraphContext, graph_ranking, load_chunks
from aibox.services import fulltext_index, vector_index
from aibox.settings import get_settings

Mode = Literal["hybrid", "vector", "fulltext"]
MODES: tuple[Mode, ...] = ("hybrid", "vector", "fulltext")
ChunkKey = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Found:
    """One result: a chunk of one of the user's files, its score and who found it."""

    chunk: Chunk
    file_id: str
    filename: str
    score: float
    found_by: dict[str, Placed]


@dataclass(frozen=True, slots=True)
class Results:
    """A search's chunks, best first, and the graph context when it was asked for."""

    found: list[Found]
    graph: GraphContext | None = None


def other_embedders(user_id: str) -> dict[str, int]:
    """Embedder id -> number of the user's files indexed with it, for every other embedder."""
    current = processing.embedder().id
    return {e: n for e, n in vector_index().embedders_in_use(user_id).items() if e != current}


def describe(others: dict[str, int]) -> str:
    """``"3 with hashing-384, 1 with …"``, for messages about ``other_embedders``."""
    return ", ".join(f"{n} with {e}" for e, n in sorted(others.items()))


#: The hybrid mode's vector weight when the settings leave it to the embedder. The hashing
#: embedder's ranking is close to noise beside BM25 (retrieval benchmark, weight 0.25: MRR
#: −0.005 on Chinese phrases, up to +0.04 on English questions; worse at 1), and hybrid must
#: not rank worse than full text, so hybrid search leaves it out; a model's ranking helps
#: questions in its languages.
VECTOR_WEIGHT_BY_EMBEDDER = {"hashing": 0.0}
MODEL_VECTOR_WEIGHT = 0.25


def vector_weight() -> float:
    """The hybrid mode's vector weight: the setting, or the configured embedder's default."""
    configured = get_settings().search_vector_weight
    if configured is not None:
        return configured
    return VECTOR_WEIGHT_BY_EMBEDDER.get(get_settings().embedder, MODEL_VECTOR_WEIGHT)


def uses_vectors(mode: Mode) -> bool:
    """Whether a search in ``mode`` reads the vector index (and so depends on the embedder)."""
    return mode == "vector" or (mode == "hybrid" and vector_weight() > 0)


def find(
    user_id: str,
    query: str,
    k: int,
    file_ids: Sequence[str] | None = None,
    *,
    mode: Mode = "hybrid",
    graph: bool = False,
) -> Results:
    """The ``k`` chunks of the user's files that best answer ``query``, best first."""
    settings = get_settings()
    depth = max(k, settings.search_candidates)
    weights = {
        "fulltext": settings.search_fulltext_weight,
        "vector": vector_weight(),
        "graph": settings.search_graph_weight,
    }
    rankings: dict[str, list[tuple[ChunkKey, float]]] = {}
    if mode == "fulltext" or (mode == "hybrid" and weights["fulltext"] > 0):
        hits = fulltext_index().search(user_id, analyze(query), depth, file_ids)
        rankings["fulltext"] = [((h.file_id, h.chunk_index), h.score) for h in hits]
    if uses_vectors(mode):
        embedder = processing.embedder()
        vector = embedder.embed([query])[0]
        hits = vector_index().search(user_id, embedder.id, vector, depth, file_ids)
        rankings["vector"] = [((h.file_id, h.chunk_index), h.score) for h in hits]
    context = None
    if graph:
        context, rankings["graph"] = graph_ranking(user_id, query, depth, file_ids)
    fused = fuse(rankings, weights, method=settings.search_fusion)
    if len(rankings) == 1:  # one ranking: its own scores (BM25, similarity), not fused ones
        for item in fused:
            item.score = next(iter(item.by.values())).score
    return Results(_load(user_id, fused, k), context)


def _load(user_id: str, fused: Sequence[Fused[ChunkKey]], k: int) -> list[Found]:
    """The top ``k`` fused items with their chunk texts and file names."""
    # Read a few more than k: a file being deleted loses its chunks before its index entries.
    window = fused[: k + 8]
    loaded = load_chunks(user_id, (item.key for item in window))
    found = [
        Found(c.chunk, c.file_id, c.filename, item.score, item.by)
        for item in window
        if (c := loaded.get(item.key)) is not None
    ]
    return found[:k]
