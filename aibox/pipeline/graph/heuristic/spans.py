"""Candidate entity spans passed from the NER rules to entity resolution."""

from __future__ import annotations

from dataclasses import dataclass

PERSON = "PERSON"
ORGANIZATION = "ORGANIZATION"
LOCATION = "LOCATION"
MISC = "MISC"

# How much a rule is trusted when mentions of one entity disagree on its type.
GUESS = 1  # shape alone: capitalisation, jieba's transliteration tag
TAGGED = 2  # a part-of-speech tag or a cue word next to the name
RULED = 3  # a suffix rule, a title or a gazetteer entry


@dataclass(frozen=True, slots=True)
class Span:
    """A typed span found by a NER rule, with offsets into the text it was given."""

    start: int
    end: int
    type: str
    strength: int


@dataclass(frozen=True, slots=True)
class Candidate:
    """A typed span located in a chunk, before entities are merged."""

    chunk_index: int
    start: int
    end: int
    surface: str
    type: str
    strength: int
