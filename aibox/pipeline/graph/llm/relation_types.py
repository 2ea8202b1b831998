"""RT: the model's answer for a batch of relations → types from RELATION_TYPES and directions.

An id the answer leaves out, or a type off the closed list, gives RELATED_TO; RELATED_TO keeps
RE's subject → object direction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from aibox.pipeline.graph.base import RELATED_TO, RELATION_TYPES
from aibox.pipeline.graph.llm.parse import Record
from aibox.pipeline.graph.llm.prompts import RelationItem
from aibox.pipeline.graph.llm.relations import Proposal
from aibox.pipeline.types import Relation

_SEPARATORS = re.compile(r"[\s\-]+")
_REVERSED = frozenset({"B->A", "B→A", "REVERSE", "REVERSED", "BACKWARD"})


def items(proposals: Sequence[Proposal]) -> list[RelationItem]:
    """How RT shows each proposal: names cut from the evidence, types, description, evidence."""
    return [_item(proposal) for proposal in proposals]


def apply_types(proposals: Sequence[Proposal], records: Sequence[Record]) -> list[Relation]:
    """The proposals typed and directed as the records say (by 1-based ``id``)."""
    answers: dict[int, tuple[str, bool]] = {}
    for record in records:
        number = record.get("id")
        if isinstance(number, str) and number.strip().isdigit():
            number = int(number)
        if isinstance(number, int) and not isinstance(number, bool):
            answers.setdefault(number, (_type(record.get("type")), _reversed(record)))
    typed = []
    for number, proposal in enumerate(proposals, 1):
        kind, backwards = answers.get(number, (RELATED_TO, False))
        relation = replace(proposal.relation, type=kind)
        typed.append(_reverse(relation) if backwards and kind != RELATED_TO else relation)
    return typed


def _type(raw: object) -> str:
    if not isinstance(raw, str):
        return RELATED_TO
    kind = _SEPARATORS.sub("_", raw.strip().upper())
    return kind if kind in RELATION_TYPES else RELATED_TO


def _reversed(record: Record) -> bool:
    direction = record.get("direction")
    return isinstance(direction, str) and direction.replace(" ", "").upper() in _REVERSED


def _reverse(relation: Relation) -> Relation:
    return replace(
        relation,
        source_key=relation.target_key,
        target_key=relation.source_key,
        source_span=relation.target_span,
        target_span=relation.source_span,
        source_type=relation.target_type,
        target_type=relation.source_type,
    )


def _item(proposal: Proposal) -> RelationItem:
    relation = proposal.relation
    return RelationItem(
        source=_name(relation.evidence, relation.source_span, relation.source_key),
        source_type=relation.source_type,
        target=_name(relation.evidence, relation.target_span, relation.target_key),
        target_type=relation.target_type,
        description=proposal.description,
        evidence=relation.evidence,
    )


def _name(evidence: str, span: tuple[int, int] | None, key: str) -> str:
    if span is None:
        return key
    return evidence[span[0] : span[1]] or key
