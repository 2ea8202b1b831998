"""Tolerant parsing of model answers: fences, prose, trailing commas, bare lists."""

from __future__ import annotations

import pytest

from aibox.pipeline.graph.llm.parse import parse_records

ENTITY = {"name": "Apple Inc.", "type": "ORGANIZATION"}


@pytest.mark.parametrize(
    "content",
    [
        '{"entities": [{"name": "Apple Inc.", "type": "ORGANIZATION"}]}',
        '[{"name": "Apple Inc.", "type": "ORGANIZATION"}]',
        '```json\n{"entities": [{"name": "Apple Inc.", "type": "ORGANIZATION"}]}\n```',
        'Here you go:\n```\n[{"name": "Apple Inc.", "type": "ORGANIZATION"},]\n```\nDone!',
        '{"entities": [{"name": "Apple Inc.", "type": "ORGANIZATION",},],}',
        "Sure. {'entities': [{'name': 'Apple Inc.', 'type': 'ORGANIZATION'}]} Anything else?",
        '```json\n{"entities": [{"name": "Apple Inc.", "type": "ORGANIZATION"}',  # cut off
        '{"items": [{"name": "Apple Inc.", "type": "ORGANIZATION"}]}',  # another list field
        '{"name": "Apple Inc.", "type": "ORGANIZATION"}',  # one bare record
    ],
)
def test_answers_in_many_shapes_give_the_records(content: str) -> None:
    assert parse_records(content, "entities") == [ENTITY]


@pytest.mark.parametrize(
    "content",
    ['{"entities": []}', "[]", '{"entities": null}', "{}", '```json\n{"entities": []}```'],
)
def test_empty_answers_give_no_records(content: str) -> None:
    assert parse_records(content, "entities") == []


@pytest.mark.parametrize("content", ["", "   ", "I could not find any entities.", "42"])
def test_unparseable_answers_give_none(content: str) -> None:
    assert parse_records(content, "entities") is None


def test_items_that_are_not_objects_are_skipped() -> None:
    content = '{"entities": ["Apple", 3, null, {"name": "Apple Inc.", "type": "ORGANIZATION"}]}'
    assert parse_records(content, "entities") == [ENTITY]
