"""Shared helpers for the graph extractor tests."""

from __future__ import annotations

from aibox.pipeline.types import Chunk, GraphExtraction, Relation


def chunks_of(*texts: str) -> list[Chunk]:
    """Consecutive chunks of one document, without overlap."""
    chunks, start = [], 0
    for index, text in enumerate(texts):
        chunks.append(Chunk(index, text, start, start + len(text)))
        start += len(text)
    return chunks


def entity_types(result: GraphExtraction) -> dict[str, str]:
    """Entity key → type."""
    return {entity.key: entity.type for entity in result.entities}


def typed(result: GraphExtraction) -> set[tuple[str, str, str]]:
    """(source key, type, target key) of every relation."""
    return {(r.source_key, r.type, r.target_key) for r in result.relations}


def relation(result: GraphExtraction, source: str, kind: str, target: str) -> Relation:
    """The one relation with these ends and type."""
    found = [
        r
        for r in result.relations
        if (r.source_key, r.type, r.target_key) == (source, kind, target)
    ]
    assert len(found) == 1, typed(result)
    return found[0]
