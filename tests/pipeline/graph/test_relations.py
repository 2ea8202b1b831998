"""RE (co-occurrence weighted by PMI) and RT (trigger typing) as separate stages."""

from __future__ import annotations

import math

import pytest

from aibox.pipeline.graph import get_extractor
from aibox.pipeline.graph.base import Extractor
from aibox.pipeline.graph.heuristic import relations
from aibox.pipeline.graph.heuristic.relations import MAX_PAIRS_PER_SENTENCE
from aibox.pipeline.types import Chunk, GraphExtraction, Relation
from aibox.settings import Settings
from tests.pipeline.graph.helpers import chunks_of, typed


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    extractor = get_extractor(Settings(kg_extractor="heuristic"))
    extractor.load()
    return extractor


def test_empty_input(extractor: Extractor) -> None:
    assert extractor.extract([]) == GraphExtraction([], [], [])
    assert extractor.extract(chunks_of("")) == GraphExtraction([], [], [])


def test_text_without_entities_has_no_relations(extractor: Extractor) -> None:
    text = "the weather was fine and nobody went anywhere. 今天天氣很好，大家都很開心。"
    assert extractor.extract(chunks_of(text)) == GraphExtraction([], [], [])


def test_one_entity_has_no_relations(extractor: Extractor) -> None:
    result = extractor.extract(chunks_of("Paris is lovely. We went to Paris in May."))
    assert [entity.key for entity in result.entities] == ["paris"]
    assert result.relations == []


def test_candidates_are_untyped_and_weighted_by_pmi(extractor: Extractor) -> None:
    # 4 sentences: Alice Walker and Bob Stone share one, Bob Stone is in two, Carol Diaz in one.
    text = (
        "Alice Walker met Bob Stone at a conference in Lisbon. "
        "Bob Stone lives quietly. Nothing else happened. "
        "Carol Diaz and Bob Stone disagreed."
    )
    chunks = chunks_of(text)
    entities, mentions = extractor.ner(chunks)
    candidates = extractor.extract_relations(chunks, entities, mentions)
    assert {r.type for r in candidates} == {"RELATED_TO"}
    pair = next(
        r for r in candidates if {r.source_key, r.target_key} == {"alice walker", "bob stone"}
    )
    pmi = math.log(1 * 4 / (1 * 3))
    npmi = pmi / -math.log(1 / 4)
    assert pair.weight == pytest.approx(pmi, abs=1e-4)
    assert pair.confidence == pytest.approx(0.25 + 0.35 * npmi, abs=1e-4)
    assert (pair.source_key, pair.target_key) == ("alice walker", "bob stone")  # text order
    assert pair.evidence == "Alice Walker met Bob Stone at a conference in Lisbon."
    assert pair.source_span is not None
    assert pair.evidence[slice(*pair.source_span)] == "Alice Walker"
    # Untyped typing keeps them RELATED_TO.
    assert {r.type for r in extractor.type_relations(candidates, chunks)} == {"RELATED_TO"}


def test_pairs_without_association_need_a_trigger(extractor: Extractor) -> None:
    # Both entities are in every sentence: PMI is 0, so only the typed sentence keeps the pair.
    result = extractor.extract(chunks_of("Nina Park visited Oslo. ", "Nina Park was born in Oslo."))
    assert [(r.source_key, r.type, r.target_key, r.chunk_index) for r in result.relations] == [
        ("nina park", "BORN_IN", "oslo", 1)
    ]
    assert result.relations[0].weight == 0.0
    assert result.relations[0].confidence == pytest.approx(0.65)


def test_typing_is_a_separate_stage(extractor: Extractor) -> None:
    chunks = chunks_of("Microsoft acquired GitHub in 2018. Nothing else happened.")
    entities, mentions = extractor.ner(chunks)
    candidates = extractor.extract_relations(chunks, entities, mentions)
    assert [(r.source_key, r.type, r.target_key) for r in candidates] == [
        ("microsoft", "RELATED_TO", "github")
    ]
    [typed_relation] = extractor.type_relations(candidates, chunks)
    assert typed_relation.type == "ACQUIRED"
    assert typed_relation.confidence == pytest.approx(candidates[0].confidence + 0.4)


def test_relation_without_spans_stays_untyped(extractor: Extractor) -> None:
    bare = Relation("a", "b", "RELATED_TO", 0, "A acquired B.", 0.3)
    assert extractor.type_relations([bare], []) == [bare]


def test_relations_per_sentence_are_capped(
    extractor: Extractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    cities = ["Paris", "London", "Berlin", "Madrid", "Rome", "Vienna", "Prague", "Warsaw"]
    cities += ["Lisbon", "Dublin", "Oslo", "Stockholm", "Helsinki", "Brussels", "Geneva"]
    text = "We flew to " + ", ".join(cities) + ". Then we rested at home."
    result = extractor.extract(chunks_of(text))
    assert len(result.entities) == len(cities)
    assert len(result.relations) == MAX_PAIRS_PER_SENTENCE == 10
    monkeypatch.setattr(relations, "MAX_PAIRS_PER_SENTENCE", 3)
    capped = extractor.extract(chunks_of(text)).relations
    # The closest pairs win: neighbours in the list.
    assert [(r.source_key, r.target_key) for r in capped] == [
        ("paris", "london"),
        ("london", "berlin"),
        ("berlin", "madrid"),
    ]


def test_overlapping_chunks_count_a_sentence_once(extractor: Extractor) -> None:
    first = "Alice Walker met Bob Stone. "
    second = "Carol Diaz stayed home."
    text = first + second
    chunks = [
        Chunk(0, text, 0, len(text)),
        Chunk(1, second, len(first), len(text)),  # overlap repeats the second sentence
    ]
    result = extractor.extract(chunks)
    [pair] = result.relations
    assert pair.chunk_index == 0
    assert pair.weight == pytest.approx(math.log(2), abs=1e-4)  # N = 2 sentences, not 3
    assert {m.chunk_index for m in result.mentions if m.entity_key == "carol diaz"} == {0, 1}


def test_output_is_deterministic(extractor: Extractor) -> None:
    text = (
        "Steve Jobs co-founded Apple Inc. in Cupertino. 張忠謀創辦台灣積體電路製造公司。"
        "Tim Cook, Jony Ive and Phil Schiller met Satya Nadella and Sundar Pichai in Seattle."
    )
    runs = [extractor.extract(chunks_of(text, text)) for _ in range(3)]
    assert runs[0] == runs[1] == runs[2]
    assert typed(runs[0])
