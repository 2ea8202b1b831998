"""Relation extraction (RE): entity pairs that share a sentence, weighted by PMI over the file.

For entities a and b over the file's N distinct sentences, with c(a), c(b) the sentences
mentioning each and c(a, b) the sentences where they are paired:

    PMI  = ln(c(a, b) · N / (c(a) · c(b)))
    NPMI = PMI / -ln(c(a, b) / N)            (0 when c(a, b) = N: no contrast to measure)
    confidence = 0.25 + 0.35 · max(0, NPMI)  (RT adds 0.4 when a trigger types the pair)

A pair is kept when PMI > 0 or a trigger types it. Within a sentence each mention pairs only
with the next few entities, and at most MAX_PAIRS_PER_SENTENCE pairs are kept (typed ones,
then higher PMI, then closer, then earlier), so a sentence listing hundreds of names stays
linear.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from aibox.pipeline.graph.base import RELATED_TO
from aibox.pipeline.graph.heuristic import triggers
from aibox.pipeline.sentences import split_sentences
from aibox.pipeline.types import Chunk, Entity, Mention, Relation

MAX_PAIRS_PER_SENTENCE = 10
PAIR_WINDOW = 6  # a mention pairs with at most this many following mentions
BASE_CONFIDENCE = 0.25
ASSOCIATION_SHARE = 0.35


@dataclass(frozen=True, slots=True)
class _Sentence:
    chunk_index: int
    start: int  # offset in the chunk
    text: str
    mentions: list[Mention]


@dataclass(frozen=True, slots=True)
class _Pair:
    first: Mention
    second: Mention

    @property
    def keys(self) -> tuple[str, str]:
        a, b = self.first.entity_key, self.second.entity_key
        return (a, b) if a <= b else (b, a)

    @property
    def gap(self) -> int:
        return self.second.start - self.first.end


def extract_relations(
    chunks: Sequence[Chunk], entities: Sequence[Entity], mentions: Sequence[Mention]
) -> list[Relation]:
    """Return untyped (RELATED_TO) relations between entities paired within sentences."""
    types = {entity.key: entity.type for entity in entities}
    sentences = _sentences(chunks, mentions)
    pairs = [_pairs(sentence) for sentence in sentences]
    entity_counts: Counter[str] = Counter()
    pair_counts: Counter[tuple[str, str]] = Counter()
    for sentence, found in zip(sentences, pairs, strict=True):
        entity_counts.update({m.entity_key for m in sentence.mentions})
        pair_counts.update({pair.keys for pair in found})
    total = len(sentences)

    relations: list[Relation] = []
    for sentence, found in zip(sentences, pairs, strict=True):
        scored = []
        for pair in found:
            a, b = pair.keys
            pmi = math.log(pair_counts[a, b] * total / (entity_counts[a] * entity_counts[b]))
            typed = _typed(sentence, pair, types)
            if pmi > 0 or typed:
                rank = (not typed, -pmi, pair.gap, pair.first.start, pair.second.start)
                scored.append((rank, pair, pmi))
        scored.sort(key=lambda item: item[0])
        kept = sorted(
            scored[:MAX_PAIRS_PER_SENTENCE], key=lambda i: (i[1].first.start, i[1].second.start)
        )
        for _, pair, pmi in kept:
            npmi = _npmi(pmi, pair_counts[pair.keys], total)
            relations.append(_relation(sentence, pair, types, pmi, npmi))
    return relations


def _typed(sentence: _Sentence, pair: _Pair, types: dict[str, str]) -> bool:
    """Whether RT will type the pair (what ``triggers.classify_relation`` says of its relation)."""
    first, second = pair.first, pair.second
    found = triggers.classify(
        sentence.text,
        _span(sentence, first),
        _span(sentence, second),
        types.get(first.entity_key, ""),
        types.get(second.entity_key, ""),
    )
    return found is not None


def _span(sentence: _Sentence, mention: Mention) -> tuple[int, int]:
    """The mention's offsets in the sentence (the relation's evidence)."""
    return mention.start - sentence.start, mention.end - sentence.start


def _npmi(pmi: float, together: int, total: int) -> float:
    if together >= total:
        return 0.0
    return pmi / -math.log(together / total)


def _sentences(chunks: Sequence[Chunk], mentions: Sequence[Mention]) -> list[_Sentence]:
    """The file's sentences and their mentions; one repeated by chunk overlap counts once."""
    by_chunk: dict[int, list[Mention]] = {}
    for mention in mentions:
        by_chunk.setdefault(mention.chunk_index, []).append(mention)
    seen: set[tuple[int, int]] = set()
    sentences = []
    for chunk in sorted(chunks, key=lambda c: c.index):
        inside = sorted(by_chunk.get(chunk.index, []), key=lambda m: (m.start, m.end))
        starts = [m.start for m in inside]
        for start, end in split_sentences(chunk.text):
            if (chunk.start + start, chunk.start + end) in seen:
                continue
            seen.add((chunk.start + start, chunk.start + end))
            # Only the mentions starting within the sentence can lie inside it.
            within = inside[bisect_left(starts, start) : bisect_right(starts, end)]
            found = [m for m in within if m.end <= end]
            sentences.append(_Sentence(chunk.index, start, chunk.text[start:end], found))
    return sentences


def _pairs(sentence: _Sentence) -> list[_Pair]:
    """Candidate pairs of distinct entities, the closest two mentions for each."""
    closest: dict[tuple[str, str], _Pair] = {}
    mentions = sentence.mentions
    for index, first in enumerate(mentions):
        for second in mentions[index + 1 : index + 1 + PAIR_WINDOW]:
            if first.entity_key == second.entity_key or second.start < first.end:
                continue
            pair = _Pair(first, second)
            keys = pair.keys
            best = closest.get(keys)
            if best is None or pair.gap < best.gap:
                closest[keys] = pair
    return list(closest.values())


def _relation(
    sentence: _Sentence, pair: _Pair, types: dict[str, str], pmi: float, npmi: float
) -> Relation:
    first, second = pair.first, pair.second
    return Relation(
        source_key=first.entity_key,
        target_key=second.entity_key,
        type=RELATED_TO,
        chunk_index=sentence.chunk_index,
        evidence=sentence.text,
        confidence=round(BASE_CONFIDENCE + ASSOCIATION_SHARE * max(0.0, npmi), 4),
        weight=round(pmi, 4),
        source_span=_span(sentence, first),
        target_span=_span(sentence, second),
        source_type=types.get(first.entity_key, ""),
        target_type=types.get(second.entity_key, ""),
    )
