"""Merging one file's per-chunk findings: entities on their keys, relations on the store's key.

An entity's name is its earliest surface form in the text; its type the one given most often,
ties going to the type seen first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from aibox.pipeline.graph.llm.ner import Found
from aibox.pipeline.types import Entity, Mention, Relation


def merge_entities(found: Iterable[Found]) -> tuple[list[Entity], list[Mention]]:
    """Entities sorted by key and their mentions sorted by position."""
    ordered = sorted(found, key=lambda f: (f.chunk_index, f.spans[0], f.key))
    votes: dict[str, Counter[str]] = {}
    names: dict[str, str] = {}
    mentions: set[Mention] = set()
    for item in ordered:
        votes.setdefault(item.key, Counter())[item.type] += 1
        names.setdefault(item.key, item.surface)
        mentions.update(Mention(item.key, item.chunk_index, s, e) for s, e in item.spans)
    entities = [
        Entity(key=key, name=names[key], type=votes[key].most_common(1)[0][0])
        for key in sorted(votes)
    ]
    return entities, sorted(mentions, key=lambda m: (m.chunk_index, m.start, m.end, m.entity_key))


def strongest(relations: Sequence[Relation]) -> list[Relation]:
    """One relation per (source, target, type, chunk), the most confident; sorted."""
    best: dict[tuple[str, str, str, int], Relation] = {}
    for relation in relations:
        key = (relation.source_key, relation.target_key, relation.type, relation.chunk_index)
        kept = best.get(key)
        if kept is None or relation.confidence > kept.confidence:
            best[key] = relation
    return [best[key] for key in sorted(best, key=lambda k: (k[3], k[0], k[1], k[2]))]
