"""RE answers of one chunk → candidate relations between its entities, with evidence.

The evidence is the sentence holding the closest pair of the two entities' mentions; when no
sentence holds both, it is the run of sentences from the first mention to the second.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aibox.pipeline.graph.base import RELATED_TO
from aibox.pipeline.graph.llm.parse import Record
from aibox.pipeline.graph.normalise import normalise_key
from aibox.pipeline.sentences import split_sentences
from aibox.pipeline.types import Chunk, Mention, Relation

DEFAULT_CONFIDENCE = 0.5  # when the model gives none, or not a number
# "Steve Jobs (PERSON)": the type the RE prompt shows after each name, sometimes copied back.
_TYPE_SUFFIX = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")


@dataclass(frozen=True, slots=True)
class Proposal:
    """A candidate relation and the model's description of it, which RT reads."""

    relation: Relation
    description: str


def propose(
    chunk: Chunk, records: Sequence[Record], mentions: Sequence[Mention], types: Mapping[str, str]
) -> list[Proposal]:
    """RELATED_TO relations for the records whose subject and object are entities in the chunk."""
    by_key: dict[str, list[Mention]] = {}
    for mention in mentions:
        by_key.setdefault(mention.entity_key, []).append(mention)
    sentences = split_sentences(chunk.text)
    proposals = []
    for record in records:
        source = _resolve(record.get("subject"), by_key)
        target = _resolve(record.get("object"), by_key)
        if source is None or target is None or source == target:
            continue
        start, end, source_mention, target_mention = _evidence(
            sentences, by_key[source], by_key[target]
        )
        relation = Relation(
            source_key=source,
            target_key=target,
            type=RELATED_TO,
            chunk_index=chunk.index,
            evidence=chunk.text[start:end],
            confidence=_confidence(record.get("confidence")),
            source_span=(source_mention.start - start, source_mention.end - start),
            target_span=(target_mention.start - start, target_mention.end - start),
            source_type=types.get(source, ""),
            target_type=types.get(target, ""),
        )
        description = record.get("description")
        proposals.append(Proposal(relation, description if isinstance(description, str) else ""))
    return proposals


def _resolve(name: object, by_key: Mapping[str, list[Mention]]) -> str | None:
    if not isinstance(name, str):
        return None
    for candidate in (name, _TYPE_SUFFIX.sub("", name)):
        key = normalise_key(candidate)
        if key in by_key:
            return key
    return None


def _confidence(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return DEFAULT_CONFIDENCE
    try:
        number = float(value)
    except ValueError:
        return DEFAULT_CONFIDENCE
    if number != number:  # NaN
        return DEFAULT_CONFIDENCE
    return min(1.0, max(0.0, number))


def _evidence(
    sentences: Sequence[tuple[int, int]], sources: Sequence[Mention], targets: Sequence[Mention]
) -> tuple[int, int, Mention, Mention]:
    """The evidence span and the mentions in it, preferring pairs within one sentence."""

    def sentence(mention: Mention) -> tuple[int, int]:
        for start, end in sentences:
            if start <= mention.start and mention.end <= end:
                return start, end
        return mention.start, mention.end

    def rank(pair: tuple[Mention, Mention]) -> tuple[bool, int, int, int]:
        a, b = pair
        gap = max(a.start, b.start) - min(a.end, b.end)
        return sentence(a) != sentence(b), gap, a.start, b.start

    source, target = min(((s, t) for s in sources for t in targets), key=rank)
    spans = (sentence(source), sentence(target))
    return min(s for s, _ in spans), max(e for _, e in spans), source, target
