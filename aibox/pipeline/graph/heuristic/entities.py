"""Merge candidate spans into entities: identity keys, short aliases and a type vote."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from aibox.pipeline.graph.heuristic import lexicon as lx
from aibox.pipeline.graph.heuristic.spans import (
    GUESS,
    LOCATION,
    MISC,
    ORGANIZATION,
    PERSON,
    Candidate,
)
from aibox.pipeline.graph.normalise import normalise_key
from aibox.pipeline.types import Entity, Mention

# Which type wins a tie in the vote.
_PRIORITY = (ORGANIZATION, PERSON, LOCATION, MISC)


def resolve(candidates: Iterable[Candidate]) -> tuple[list[Entity], list[Mention]]:
    """Turn candidate spans into entities (first-seen order) and sorted, unique mentions."""
    ordered = sorted(candidates, key=lambda c: (c.chunk_index, c.start, c.end))
    by_key: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in ordered:
        by_key[normalise_key(candidate.surface)].append(candidate)
    types = {key: _vote(found) for key, found in by_key.items()}
    aliases = _aliases(by_key, types)

    entities: dict[str, Entity] = {}
    mentions: set[Mention] = set()
    for key, found in by_key.items():
        canonical = aliases.get(key, key)
        if canonical == key:
            entities[key] = Entity(key, found[0].surface, types[key])
        mentions.update(Mention(canonical, c.chunk_index, c.start, c.end) for c in found)
    ordered_mentions = sorted(mentions, key=lambda m: (m.chunk_index, m.start, m.end))
    seen = dict.fromkeys(m.entity_key for m in ordered_mentions)
    return [entities[key] for key in seen], ordered_mentions


def _vote(found: list[Candidate]) -> str:
    """The type backed by the strongest rule, then by most mentions; MISC only if alone."""
    tally: dict[str, tuple[int, int]] = {}
    for candidate in found:
        strength, count = tally.get(candidate.type, (0, 0))
        tally[candidate.type] = (max(strength, candidate.strength), count + 1)
    if len(tally) > 1:
        tally.pop(MISC, None)
    return max(tally, key=lambda kind: (*tally[kind], -_rank(kind)))


def _rank(kind: str) -> int:
    return _PRIORITY.index(kind) if kind in _PRIORITY else len(_PRIORITY)


def _aliases(by_key: dict[str, list[Candidate]], types: dict[str, str]) -> dict[str, str]:
    """Map short forms to the full name they stand for: Apple → Apple Inc., Jobs → Steve Jobs."""
    claims: dict[str, set[str]] = defaultdict(set)
    for key in by_key:
        words = key.split()
        if len(words) < 2 or not words[-1].isascii():
            continue
        if types[key] == ORGANIZATION and words[-1] in lx.CORPORATE_FORMS_EN:
            claims[" ".join(words[:-1]).rstrip(",")].add(key)
        elif types[key] == PERSON and all(_is_latin_word(w) for w in words):
            claims[words[-1]].add(key)
    aliases = {}
    for short, owners in claims.items():
        if len(owners) != 1 or short not in by_key:
            continue
        owner = next(iter(owners))
        if all(c.type in (types[owner], MISC) or c.strength <= GUESS for c in by_key[short]):
            aliases[short] = owner
    return aliases


def _is_latin_word(word: str) -> bool:
    return word.replace(".", "").replace("-", "").isalpha() and word.isascii()
