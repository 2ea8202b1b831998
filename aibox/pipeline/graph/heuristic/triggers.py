"""Relation typing (RT): type and direct a pair of mentions with the trigger lexicon.

A trigger is looked for between the two mentions first (the one nearest the second mention
and in its clause wins); when both mentions share a clause, also just after the second
(Chinese puts verbs and titles there: X与Y合作, X担任Y董事长) and just before the first. Verbs
make the first mention the subject unless the clause is passive (founded by, 被, 由); titles
make the person after them the subject (Apple CEO Tim Cook, 台积电董事长魏哲家) unless "of"
follows (Tim Cook, CEO of Apple); such a title must stand next to its holder and in one clause
with the organisation, and one held by a deputy (vice president, 副院长) means WORKS_FOR. Two
places side by side need no trigger: "Omaha, Nebraska" and 台北市信义区 are LOCATED_IN. The
entity types have the last word: a type is used only when the types fit it, in the found
direction or else the other way round.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from aibox.pipeline.graph.base import RELATED_TO
from aibox.pipeline.graph.heuristic import lexicon as lx
from aibox.pipeline.graph.heuristic.spans import LOCATION
from aibox.pipeline.graph.heuristic.trigger_lexicon import (
    DEPUTY,
    FORMS,
    RULES,
    SYMMETRIC_TYPES,
    TRIGGER,
    Rule,
)
from aibox.pipeline.graph.normalise import original_span, to_simplified_aligned
from aibox.pipeline.types import Relation

_CLAUSE_END = re.compile(r"[,，;；:：。!?！？()（）]")
_PASSIVE_ZH = re.compile(r"被|(?<![自理经缘])由(?!于|此)")
_OF_AFTER = re.compile(r"^\s*(?:of|at|for)\b", re.IGNORECASE)
_BY_AFTER = re.compile(r"^\s*by\b", re.IGNORECASE)
_NEAR_CHARS = 16  # how far after or before the pair a trigger may stand
_HAN = re.compile(r"[\u3400-\u9fff]")
# "Paris, London and Tokyo": the place after the comma continues a list, not the first place.
_LIST_AFTER = re.compile(r"(?:\s*,\s*[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*){0,3})*\s*,?\s+(?:and|or)\b")
_WORKS_FOR = next(rule for rule in RULES if rule.type == "WORKS_FOR")
# A trigger starts where no ASCII letter precedes it (English ones are whole words) or with a
# Chinese character. Trying the lexicon only there finds the same matches about 2.5x faster.
_TRIGGER_AT_START = re.compile(
    rf"(?:(?<![A-Za-z])|(?=[^\x00-\x7f]))(?:{TRIGGER.pattern})", TRIGGER.flags
)
TRIGGER_SHARE = 0.4  # confidence added to a relation a trigger types


@dataclass(frozen=True, slots=True)
class Typing:
    """A relation type and whether the first mention in the text is its subject."""

    type: str
    forward: bool


@dataclass(frozen=True, slots=True)
class _Trigger:
    start: int  # offsets into the original evidence
    end: int
    rule: Rule
    title: bool
    by_after: bool  # "founded by": a passive verb
    of_after: bool  # "CEO of": a title whose holder comes before it


def classify(
    evidence: str,
    first: tuple[int, int],
    second: tuple[int, int],
    first_type: str,
    second_type: str,
) -> Typing | None:
    """Type mentions ``first`` before ``second`` (offsets into ``evidence``) if a trigger fits."""
    if first_type == LOCATION and second_type == LOCATION:
        nested = _nested_places(evidence, first, second)
        if nested is not None:
            return nested
    found = _triggers(evidence)
    if not found:  # most sentences: no zone can hold a trigger
        return None
    for zone, start, end in _zones(evidence, first, second):
        inside = [trigger for trigger in found if start <= trigger.start and trigger.end <= end]
        if zone == "between":
            # A trigger belongs to the clause of the mention after it: in "X创办人Y表示，Z…" the
            # title is Y's, not Z's.
            inside = [t for t in inside if not _CLAUSE_END.search(evidence, t.end, second[0])]
            inside = [t for t in inside if _attached(evidence, t, first, second)]
        # Between and before: nearest the mention that follows; after: nearest the second.
        inside.sort(key=lambda trigger: trigger.end if zone == "after" else -trigger.end)
        for trigger in inside:
            forward = _forward(evidence, zone, trigger, first, second)
            typing = _fit(trigger.rule, forward, first_type, second_type)
            if typing is not None:
                return typing
    return None


def _nested_places(evidence: str, first: tuple[int, int], second: tuple[int, int]) -> Typing | None:
    """LOCATED_IN for "Omaha, Nebraska" (a known larger place after a comma) and 台北市信义区."""
    gap = evidence[first[1] : second[0]]
    if not gap:
        chinese = _HAN.match(evidence, first[1] - 1) and _HAN.match(evidence, second[0])
        return Typing("LOCATED_IN", False) if chinese else None
    if gap.strip() != "," or evidence[: first[0]].rstrip().endswith(","):
        return None
    larger = evidence[second[0] : second[1]].lower()
    if larger not in lx.COUNTRIES_AND_CITIES_EN and larger not in lx.PLACES_EN:
        return None
    return None if _LIST_AFTER.match(evidence, second[1]) else Typing("LOCATED_IN", True)


def _attached(
    evidence: str, trigger: _Trigger, first: tuple[int, int], second: tuple[int, int]
) -> bool:
    """False for a title away from its holder or cut from the organisation by a clause break."""
    if not trigger.title or trigger.of_after:
        return True
    near = second[0] - trigger.end <= _NEAR_CHARS
    return near and not _CLAUSE_END.search(evidence, first[1], trigger.start)


def _zones(
    evidence: str, first: tuple[int, int], second: tuple[int, int]
) -> list[tuple[str, int, int]]:
    """Where triggers for the pair may stand; outside the pair only within its clause."""
    zones = [("between", first[1], second[0])]
    if _CLAUSE_END.search(evidence, first[1], second[0]):
        return zones
    clause_end = _CLAUSE_END.search(evidence, second[1])
    after_end = min(second[1] + _NEAR_CHARS, clause_end.start() if clause_end else len(evidence))
    before_start = max(first[0] - _NEAR_CHARS, 0)
    for punctuation in _CLAUSE_END.finditer(evidence, before_start, first[0]):
        before_start = punctuation.end()
    return [*zones, ("after", second[1], after_end), ("before", before_start, first[0])]


def _forward(
    evidence: str, zone: str, trigger: _Trigger, first: tuple[int, int], second: tuple[int, int]
) -> bool:
    """Whether the trigger's form makes the first mention the subject."""
    if trigger.title:
        # Between the mentions, a title belongs to the mention after it unless "of" follows.
        return zone != "between" or trigger.of_after
    if trigger.by_after:
        return False
    if zone == "before":
        return True
    # 被/由 after the first mention and before the verb make it passive: Y被X收购, Y由X创办.
    passive_end = trigger.start if zone == "between" else second[0]
    return _PASSIVE_ZH.search(evidence, first[1], passive_end) is None


@lru_cache(maxsize=4096)  # RE asks once per candidate pair, RT again: scan each sentence once
def _triggers(evidence: str) -> tuple[_Trigger, ...]:
    """Every trigger in a sentence, matched on its Simplified form."""
    simplified, owners = to_simplified_aligned(evidence)
    found = []
    for match in _TRIGGER_AT_START.finditer(simplified):
        rule, title = FORMS[str(match.lastgroup)]
        if title and rule.type == "LEADS" and DEPUTY.search(simplified, 0, match.start()):
            rule = _WORKS_FOR  # a deputy works for the organisation: 副院长, vice president
        start, end = original_span(owners, match.start(), match.end())
        rest = simplified[match.end() :]
        found.append(
            _Trigger(
                start, end, rule, title, bool(_BY_AFTER.match(rest)), bool(_OF_AFTER.match(rest))
            )
        )
    return tuple(found)


def _fit(rule: Rule, forward: bool, first_type: str, second_type: str) -> Typing | None:
    if rule.symmetric:
        fits = first_type in rule.sources and second_type in rule.targets
        return Typing(rule.type, True) if fits else None
    for direction in (forward, not forward):
        source, target = (first_type, second_type) if direction else (second_type, first_type)
        if source in rule.sources and target in rule.targets:
            return Typing(rule.type, direction)
    return None


def classify_relation(relation: Relation) -> Typing | None:
    """Type a candidate relation from its evidence; ``forward`` keeps source and target."""
    source, target = relation.source_span, relation.target_span
    if source is None or target is None:
        return None
    if source[0] <= target[0]:
        return classify(
            relation.evidence, source, target, relation.source_type, relation.target_type
        )
    found = classify(relation.evidence, target, source, relation.target_type, relation.source_type)
    return None if found is None else Typing(found.type, not found.forward)


def type_relations(relations: Sequence[Relation]) -> list[Relation]:
    """Type and direct candidate relations; drop RELATED_TO where a typed one links the pair."""
    typed: list[Relation] = []
    for relation in relations:
        found = classify_relation(relation)
        if found is None:
            typed.append(relation)
            continue
        confidence = round(min(1.0, relation.confidence + TRIGGER_SHARE), 4)
        result = replace(relation, type=found.type, confidence=confidence)
        # A symmetric relation is stored one way round only, whichever way the text had it.
        swap = not found.forward or (
            found.type in SYMMETRIC_TYPES and relation.source_key > relation.target_key
        )
        if swap:
            result = replace(
                result,
                source_key=relation.target_key,
                target_key=relation.source_key,
                source_span=relation.target_span,
                target_span=relation.source_span,
                source_type=relation.target_type,
                target_type=relation.source_type,
            )
        typed.append(result)
    return _deduplicated(typed)


def _deduplicated(relations: list[Relation]) -> list[Relation]:
    """One relation per pair, type and chunk (the most confident), in first-seen order."""
    linked = {
        (r.chunk_index, frozenset((r.source_key, r.target_key)))
        for r in relations
        if r.type != RELATED_TO
    }
    best: dict[tuple[str, str, str, int], Relation] = {}
    for relation in relations:
        pair = frozenset((relation.source_key, relation.target_key))
        if relation.type == RELATED_TO and (relation.chunk_index, pair) in linked:
            continue
        key = (relation.source_key, relation.target_key, relation.type, relation.chunk_index)
        if key not in best or relation.confidence > best[key].confidence:
            best[key] = relation
    return list(best.values())
