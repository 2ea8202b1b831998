"""NER answers of one chunk → entities located in its text, typed from the configured list."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aibox.pipeline.graph.llm.matching import ChunkText, Span
from aibox.pipeline.graph.llm.parse import Record
from aibox.pipeline.graph.normalise import normalise_key
from aibox.pipeline.types import Chunk

# Spellings models often use for the usual types; applied only when the target is configured.
_ALIASES = {
    "ORG": "ORGANIZATION",
    "ORGANISATION": "ORGANIZATION",
    "COMPANY": "ORGANIZATION",
    "PER": "PERSON",
    "PEOPLE": "PERSON",
    "LOC": "LOCATION",
    "GPE": "LOCATION",
    "GEO": "LOCATION",
    "PLACE": "LOCATION",
}
_SEPARATORS = re.compile(r"[\s\-]+")


@dataclass(frozen=True, slots=True)
class Found:
    """One entity as found in one chunk: its key, type and every span of it there."""

    key: str
    type: str
    chunk_index: int
    spans: tuple[Span, ...]
    surface: str  # the text at the first span


def canonical_type(raw: object, allowed: Sequence[str]) -> str | None:
    """The configured type a model's type names, or None when it names none (then dropped)."""
    if not isinstance(raw, str):
        return None
    kind = _SEPARATORS.sub("_", raw.strip().upper())
    if kind not in allowed:
        kind = _ALIASES.get(kind, kind)
    return kind if kind in allowed else None


def locate_entities(chunk: Chunk, records: Sequence[Record], allowed: Sequence[str]) -> list[Found]:
    """Entities of the records whose names occur in the chunk and whose types are allowed."""
    named: dict[str, tuple[str, str]] = {}
    for record in records:
        name, kind = record.get("name"), canonical_type(record.get("type"), allowed)
        if isinstance(name, str) and name.strip() and kind is not None:
            named.setdefault(normalise_key(name), (name, kind))  # a repeat keeps its first type
    text = ChunkText(chunk.text)
    claimed: list[Span] = []
    found = []
    # Longer names claim text first, so "Apple" does not also match inside "Apple Inc.".
    for key, (name, kind) in sorted(named.items(), key=lambda item: (-len(item[0]), item[0])):
        spans = [span for span in text.find(name) if not _overlaps(span, claimed)]
        if spans:
            claimed.extend(spans)
            first = spans[0]
            found.append(
                Found(key, kind, chunk.index, tuple(spans), chunk.text[first[0] : first[1]])
            )
    return found


def _overlaps(span: Span, claimed: Sequence[Span]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in claimed)
