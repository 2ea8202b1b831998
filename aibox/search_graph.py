"""What the knowledge graph adds to a search: the entities a query names, their one-hop
relations with evidence, and a ranking of the chunks those come from (LightRAG's "local"
mode, without an LLM: entities are found by key, as extraction made them).

A chunk's graph score counts the query's entities it mentions, each weighted by how specific
the entity is (``1 / log2(1 + chunks mentioning it)``: a name in three chunks says more than
one in three hundred), plus the confidence of each relation of those entities found in it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aibox import processing
from aibox.pipeline.graph.lookup import query_keys
from aibox.pipeline.types import Chunk
from aibox.services import chunk_store, file_store, graph_queries
from aibox.store.chunks import chunk_id
from aibox.store.graph_queries import EntityRow, TripleRow

#: How many relations the context lists at most.
MAX_RELATIONS = 30

ChunkKey = tuple[str, int]


@dataclass(frozen=True, slots=True)
class GraphContext:
    """The entities named in a query and their one-hop relations, most confident first."""

    entities: list[EntityRow]
    relations: list[TripleRow]


def graph_ranking(
    user_id: str, query: str, depth: int, file_ids: Sequence[str] | None = None
) -> tuple[GraphContext, list[tuple[ChunkKey, float]]]:
    """The query's graph context and up to ``depth`` chunks ranked by graph evidence."""
    queries = graph_queries()
    entities = queries.entities_by_keys(user_id, query_keys(query, processing.extractor()))
    if not entities:
        return GraphContext([], []), []
    ids = [e.id for e in entities]
    allowed = set(file_ids) if file_ids is not None else None
    relations = [
        r
        for r in queries.relations_around(user_id, ids, limit=MAX_RELATIONS)
        if allowed is None or r.file_id in allowed
    ]
    scores: dict[ChunkKey, float] = defaultdict(float)
    for mention in queries.mentions(user_id, ids):
        if allowed is not None and mention.file_id not in allowed:
            continue
        specificity = 1 / math.log2(1 + len(mention.chunks))
        for chunk in mention.chunks:
            scores[(mention.file_id, chunk)] += specificity
    for relation in relations:
        scores[(relation.file_id, relation.chunk)] += relation.confidence
    ranking = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:depth]
    return GraphContext(entities, relations), ranking


@dataclass(frozen=True, slots=True)
class FileChunk:
    """A chunk and the file it belongs to."""

    chunk: Chunk
    file_id: str
    filename: str


def load_chunks(user_id: str, chunk_keys: Iterable[ChunkKey]) -> dict[ChunkKey, FileChunk]:
    """The chunks of the user's files named by ``(file_id, index)``; files or chunks that are
    gone (a file being deleted) are left out."""
    wanted = list(chunk_keys)
    texts = chunk_store().get_many(chunk_id(*key) for key in wanted)
    names: dict[str, str | None] = {}
    loaded = {}
    for key in wanted:
        file_id = key[0]
        if file_id not in names:
            record = file_store().get_owned(file_id, user_id)
            names[file_id] = record.filename if record else None
        chunk, filename = texts.get(chunk_id(*key)), names[file_id]
        if chunk is not None and filename is not None:
            loaded[key] = FileChunk(chunk, file_id, filename)
    return loaded


def entity_chunks(user_id: str, entity_id: str, *, limit: int) -> list[FileChunk]:
    """The chunks that mention the entity or hold one of its relations, in document order."""
    queries = graph_queries()
    keys: set[ChunkKey] = {
        (m.file_id, chunk) for m in queries.mentions(user_id, [entity_id]) for chunk in m.chunks
    }
    keys.update(
        (r.file_id, r.chunk) for r in queries.relations_around(user_id, [entity_id], limit=1000)
    )
    loaded = load_chunks(user_id, sorted(keys))
    return list(loaded.values())[:limit]
