"""The chat messages of the three LLM steps: NER (with gleaning), RE and RT."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aibox.pipeline.graph.base import RELATION_TYPES

Message = dict[str, str]

NER_SYSTEM = (
    "You extract named entities from text for a knowledge graph. "
    "You answer with one JSON object and nothing else."
)
RE_SYSTEM = (
    "You extract relations between given entities from text for a knowledge graph. "
    "You answer with one JSON object and nothing else."
)
RT_SYSTEM = (
    "You classify relations of a knowledge graph onto a closed list of types. "
    "You answer with one JSON object and nothing else."
)

_NER = """-Goal-
Find every named entity in the text below whose type is one of: {types}.

-Rules-
- "name": the entity exactly as written in the text: same spelling, same script. Do not \
translate it and do not convert between Traditional and Simplified Chinese.
- "type": one of the types above, in upper case. Leave out anything of another type.
- "description": one short sentence about the entity, from the text.

-Output-
{{"entities": [{{"name": "...", "type": "...", "description": "..."}}]}}
Answer {{"entities": []}} when there is none.

-Text-
{text}"""

GLEANING = """MANY entities were missed in the last extraction. Add them below in the same JSON \
format, listing only entities not given before, named exactly as written in the text.
Answer {"entities": []} if none were missed."""

_RE = """-Goal-
List the relations the text below states between pairs of these entities.

-Entities-
{entities}

-Rules-
- "subject" and "object": names copied exactly from the entity list above, never another name.
- "description": one sentence saying how the subject relates to the object, per the text.
- "confidence": a number from 0 to 1, how clearly the text states the relation.
- Only relations the text states or clearly implies; none between an entity and itself.

-Output-
{{"relations": [{{"subject": "...", "object": "...", "description": "...", "confidence": 0.9}}]}}
Answer {{"relations": []}} when there is none.

-Text-
{text}"""

_RT = """-Goal-
Give each numbered relation below one type from the closed list, and its direction.

-Types- (A and B are the two entities of a relation)
{types}

-Relations-
{relations}

-Output-
{{"relations": [{{"id": 1, "type": "...", "direction": "A->B"}}]}}
"direction" is "A->B" when the type reads from A to B and "B->A" when it reads from B to A.
Use RELATED_TO when no other type fits. Give every id exactly once."""

_GLOSSES = {
    "BORN_IN": "A (a person) was born in B (a place)",
    "FOUNDED": "A founded or co-founded B",
    "LOCATED_IN": "A is located, based or headquartered in B (a place)",
    "ACQUIRED": "A bought, acquired or took over B",
    "LEADS": "A leads B: its chief executive, chair, president, director or head",
    "PARTNER_OF": "A and B are partners or allies",
    "WORKS_FOR": "A works for or is employed by B",
    "RELATED_TO": "another relation, or none of the above",
}


@dataclass(frozen=True, slots=True)
class RelationItem:
    """One relation as RT shows it: the two ends with their types, what RE said, the evidence."""

    source: str
    source_type: str
    target: str
    target_type: str
    description: str
    evidence: str


def ner_messages(text: str, entity_types: Sequence[str]) -> list[Message]:
    """The NER request for one chunk."""
    user = _NER.format(types=", ".join(entity_types), text=text)
    return [{"role": "system", "content": NER_SYSTEM}, {"role": "user", "content": user}]


def gleaning_messages(conversation: Sequence[Message], answer: str) -> list[Message]:
    """The conversation so far, the model's last answer and the request for missed entities."""
    return [
        *conversation,
        {"role": "assistant", "content": answer},
        {"role": "user", "content": GLEANING},
    ]


def re_messages(text: str, entities: Sequence[tuple[str, str]]) -> list[Message]:
    """The RE request for one chunk and the (name, type) of the entities found in it."""
    listed = "\n".join(f"- {name} ({kind})" for name, kind in entities)
    user = _RE.format(entities=listed, text=text)
    return [{"role": "system", "content": RE_SYSTEM}, {"role": "user", "content": user}]


def rt_messages(items: Sequence[RelationItem]) -> list[Message]:
    """The RT request for a batch of relations, numbered from 1."""
    types = "\n".join(f"- {name}: {_GLOSSES.get(name, name)}" for name in RELATION_TYPES)
    relations = "\n".join(_item_line(number, item) for number, item in enumerate(items, 1))
    user = _RT.format(types=types, relations=relations)
    return [{"role": "system", "content": RT_SYSTEM}, {"role": "user", "content": user}]


def _item_line(number: int, item: RelationItem) -> str:
    parts = [
        f"{number}. A: {item.source} ({item.source_type})",
        f"B: {item.target} ({item.target_type})",
    ]
    if item.description:
        parts.append(f"description: {_one_line(item.description)}")
    parts.append(f"evidence: {_one_line(item.evidence)}")
    return " | ".join(parts)


def _one_line(text: str) -> str:
    return " ".join(text.split())
