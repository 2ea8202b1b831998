"""The labelled kg_eval passages are well formed, and the heuristic extractor keeps its scores."""

from __future__ import annotations

import pytest

from aibox.pipeline.graph import RELATED_TO
from aibox.pipeline.types import Entity, GraphExtraction, Relation
from bench.kg_eval import (
    LANGUAGES,
    GoldEntity,
    GoldRelation,
    Passage,
    check,
    evaluate,
    load_passages,
    score,
    summarise,
)

# Measured by `python -m bench.kg_eval` (88 passages, one file each), overall micro-averages:
# entities (key + type) P 0.742 / R 0.730 / F1 0.736; typed relations P 0.679 / R 0.385 /
# F1 0.491. The floors are those F1s minus 0.03: a change that makes extraction worse fails.
ENTITY_F1_FLOOR = 0.70
RELATION_F1_FLOOR = 0.46


@pytest.fixture(scope="module")
def passages() -> list[Passage]:
    return [passage for language in LANGUAGES for passage in load_passages(language)]


def test_eval_files_parse_and_every_gold_span_is_in_its_passage(passages: list[Passage]) -> None:
    for language in LANGUAGES:
        assert len([p for p in passages if p.language == language]) >= 40
    assert len({passage.id for passage in passages}) == len(passages)
    for passage in passages:
        assert check(passage) == [], passage.id
        for entity in passage.entities:
            for surface in (entity.text, *entity.aliases):
                assert surface in passage.text, (passage.id, surface)
    # Hard cases on purpose: passages with nothing to find are part of the set.
    assert any(not passage.entities for passage in passages)


def test_check_reports_spans_missing_from_the_text_and_dangling_relations() -> None:
    passage = Passage(
        "x-01",
        "en",
        0,
        "Alice met Bob.",
        (GoldEntity("Carol", "PERSON"), GoldEntity("Bob", "PEOPLE")),
        (GoldRelation("Alice", "LEADS", "Bob"), GoldRelation("Bob", "LIKES", "Carol")),
    )
    problems = " | ".join(check(passage))
    assert "'Carol' does not appear" in problems
    assert "unknown type 'PEOPLE'" in problems
    assert "'Alice' is not a gold entity" in problems
    assert "'LIKES' is not on the closed list" in problems


def test_scoring_matches_keys_aliases_types_and_symmetric_relations() -> None:
    passage = Passage(
        "x-02",
        "en",
        0,
        "Apple Inc. partnered with Microsoft. Apple is based in Cupertino.",
        (
            GoldEntity("Apple Inc.", "ORGANIZATION", ("Apple",)),
            GoldEntity("Microsoft", "ORGANIZATION"),
            GoldEntity("Cupertino", "LOCATION"),
        ),
        (
            GoldRelation("Apple Inc.", "PARTNER_OF", "Microsoft"),
            GoldRelation("Apple Inc.", "LOCATED_IN", "Cupertino"),
        ),
    )

    def rel(source: str, kind: str, target: str) -> Relation:
        return Relation(source, target, kind, 0, "", 1.0)

    extraction = GraphExtraction(
        [
            Entity("apple", "Apple", "ORGANIZATION"),  # an alias of the gold name
            Entity("microsoft", "Microsoft", "MISC"),  # right key, wrong type
            Entity("cupertino", "Cupertino", "LOCATION"),
            Entity("tuesday", "Tuesday", "MISC"),  # not an entity
        ],
        [],
        [
            rel("microsoft", "PARTNER_OF", "apple"),  # symmetric: either direction is right
            rel("cupertino", "LOCATED_IN", "apple"),  # wrong direction
            rel("apple", RELATED_TO, "tuesday"),
        ],
    )
    counts = {name: (c.tp, c.fp, c.fn) for name, c in score(passage, extraction).counts.items()}
    assert counts == {
        "entity_keys": (3, 1, 0),
        "entities": (2, 2, 1),
        "relations": (1, 1, 1),
        "typed_pairs": (2, 0, 0),
        "pairs": (2, 1, 0),
    }


def test_heuristic_extractor_stays_above_its_measured_scores(passages: list[Passage]) -> None:
    results = evaluate(passages)
    overall = summarise(results)["overall"]["all"]
    assert overall["entities"].f1 >= ENTITY_F1_FLOOR, overall["entities"]
    assert overall["relations"].f1 >= RELATION_F1_FLOOR, overall["relations"]
