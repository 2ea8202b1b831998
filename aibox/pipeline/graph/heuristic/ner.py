"""Route each sentence of a file to the Chinese or English NER rules and collect candidates."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aibox.pipeline.graph.heuristic import ner_en, ner_zh
from aibox.pipeline.graph.heuristic.spans import Candidate, Span
from aibox.pipeline.sentences import split_sentences
from aibox.pipeline.types import Chunk

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def is_chinese(sentence: str) -> bool:
    """True when Han characters carry the sentence (a Latin word or two inside is fine)."""
    han = len(_HAN.findall(sentence))
    return han > 0 and han * 3 >= len(_LATIN.findall(sentence))


def find_candidates(chunks: Sequence[Chunk]) -> list[Candidate]:
    """Return typed candidate spans for every sentence of ``chunks``, offsets per chunk."""
    candidates: list[Candidate] = []
    english: list[tuple[Chunk, int, str]] = []
    for chunk in chunks:
        for start, end in split_sentences(chunk.text):
            sentence = chunk.text[start:end]
            if is_chinese(sentence):
                candidates.extend(_locate(chunk, start, ner_zh.find_entities(sentence)))
            else:
                english.append((chunk, start, sentence))
    found = ner_en.find_entities([sentence for _, _, sentence in english])
    for (chunk, start, _), spans in zip(english, found, strict=True):
        candidates.extend(_locate(chunk, start, spans))
    return candidates


def _locate(chunk: Chunk, offset: int, spans: list[Span]) -> list[Candidate]:
    return [
        Candidate(
            chunk.index,
            offset + span.start,
            offset + span.end,
            chunk.text[offset + span.start : offset + span.end],
            span.type,
            span.strength,
        )
        for span in spans
    ]
