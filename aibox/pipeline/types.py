"""Plain data passed between pipeline stages. No I/O, no Celery."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Document:
    """Text extracted from one file, ready to chunk."""

    text: str
    file_type: str  # canonical type name, e.g. "txt", "md", "pdf"
    encoding: str | None = None  # the detected encoding, for text formats
    metadata: dict[str, str] = field(default_factory=dict)
    #: ``(offset, page_number)`` where each page starts in ``text``, ascending (PDF only).
    pages: tuple[tuple[int, int], ...] = ()
    #: ``(start, end)`` spans of headings in ``text`` (Markdown, HTML, DOCX), ascending.
    headings: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Chunk:
    """A span of a document's text. ``text == document.text[start:end]``."""

    index: int
    text: str
    start: int
    end: int
    page: int | None = None  # the page the chunk starts on, for paged formats


@dataclass(frozen=True, slots=True)
class Entity:
    """A named thing found by NER, merged across chunks and files on ``key``."""

    key: str  # normalised identity: case-folded, Traditional Chinese converted to Simplified
    name: str  # surface form as first seen in the original text
    type: str  # PERSON | ORGANIZATION | LOCATION | ... (upper case)


@dataclass(frozen=True, slots=True)
class Mention:
    """One occurrence of an entity in a chunk (offsets into the chunk's text)."""

    entity_key: str
    chunk_index: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Relation:
    """A typed, directed relation between two entities with its provenance."""

    source_key: str
    target_key: str
    type: str  # upper-case identifier from a closed list, RELATED_TO when untyped
    chunk_index: int
    evidence: str  # the sentence the relation was found in
    confidence: float  # 0..1
    weight: float = 0.0  # association strength (e.g. PMI) behind the relation
    # What relation typing reads: the two mentions' offsets in ``evidence`` and the entities'
    # types, in source/target order; None / "" when the extractor did not record them.
    source_span: tuple[int, int] | None = None
    target_span: tuple[int, int] | None = None
    source_type: str = ""
    target_type: str = ""


@dataclass(frozen=True, slots=True)
class GraphExtraction:
    """What an extractor found in one file's chunks."""

    entities: list[Entity]
    mentions: list[Mention]
    relations: list[Relation]
