"""The LLM extractor against a scripted model behind the fake chat endpoint.

The real endpoint is a remote OpenAI-compatible service that cannot exist here, so a local
HTTP server speaking the chat-completions protocol answers from the script below. The cache
is disabled (TTL 0) so that every request reaches the server.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from aibox.errors import ConfigurationError
from aibox.pipeline.graph import get_extractor, run_stages
from aibox.pipeline.graph.llm import LLMExtractor, prompts
from aibox.pipeline.types import Chunk, GraphExtraction
from aibox.settings import Settings
from tests.fakes.chat_server import FakeChatServer
from tests.pipeline.graph.helpers import chunks_of, entity_types, relation, typed

ENGLISH = "Steve Jobs co-founded Apple Inc. in Cupertino. Tim Cook is the CEO of Apple Inc. today."
CHINESE = "馬雲在杭州創立了阿里巴巴集團。"


def entity(name: str, kind: str) -> dict[str, str]:
    return {"name": name, "type": kind, "description": f"{name} is mentioned."}


def related(subject: str, obj: str, description: str, confidence: Any) -> dict[str, Any]:
    return {"subject": subject, "object": obj, "description": description, "confidence": confidence}


# Keyed by the chunk text each answer is for. The model names Chinese entities in Simplified
# script, as models often do; the text is Traditional.
NER = {
    ENGLISH: [
        entity("Steve Jobs", "PERSON"),
        entity("Apple Inc.", "ORGANIZATION"),
        entity("Cupertino", "location"),
        entity("Elon Musk", "PERSON"),  # not in the text
        entity("CEO", "TITLE"),  # not a configured type
    ],
    CHINESE: [entity("马云", "PERSON"), entity("阿里巴巴集团", "ORG"), entity("杭州", "LOCATION")],
}
GLEANING = {ENGLISH: [entity("Tim Cook", "PERSON")], CHINESE: []}
RE = {
    ENGLISH: [
        related("Steve Jobs", "Apple Inc.", "Steve Jobs co-founded Apple Inc.", 0.9),
        related("Steve Jobs", "Apple Inc.", "Jobs started Apple.", 0.6),
        related("Apple Inc.", "Cupertino", "Apple Inc. is based in Cupertino.", 0.7),
        related("Tim Cook (PERSON)", "Apple Inc.", "Tim Cook is the CEO of Apple Inc.", "0.8"),
        related("Elon Musk", "Apple Inc.", "Musk admires Apple.", 0.9),
    ],
    CHINESE: [
        related("阿里巴巴集团", "马云", "阿里巴巴集团由马云创立。", 0.95),
        related("阿里巴巴集团", "杭州", "阿里巴巴集团创立于杭州。", 1.7),
    ],
}
# (A, B) as the RT prompt shows them → (type, direction).
RT = {
    ("Steve Jobs", "Apple Inc."): ("FOUNDED", "A->B"),
    ("Apple Inc.", "Cupertino"): ("LOCATED_IN", "A->B"),
    ("Tim Cook", "Apple Inc."): ("LEADS", "A->B"),
    ("阿里巴巴集團", "馬雲"): ("FOUNDED", "B->A"),
    ("阿里巴巴集團", "杭州"): ("HEADQUARTERED_IN", "A->B"),  # off the closed list
}
_RT_LINE = re.compile(r"^(\d+)\. A: (.+?) \(\w*\) \| B: (.+?) \(", re.MULTILINE)


def for_chunk(prompt: str, table: dict[str, Any]) -> Any:
    return next((answer for text, answer in table.items() if text in prompt), [])


def scripted_model(messages: list[dict[str, Any]]) -> str:
    """Answers NER, gleaning, RE and RT requests from the tables above."""
    system, prompt = messages[0]["content"], messages[1]["content"]
    if system == prompts.NER_SYSTEM:
        table = GLEANING if len(messages) > 2 else NER
        return json.dumps({"entities": for_chunk(prompt, table)}, ensure_ascii=False)
    if system == prompts.RE_SYSTEM:
        return json.dumps({"relations": for_chunk(prompt, RE)}, ensure_ascii=False)
    assert system == prompts.RT_SYSTEM
    answers = []
    for number, a, b in _RT_LINE.findall(prompt):
        kind, direction = RT.get((a, b), ("RELATED_TO", "A->B"))
        answers.append({"id": int(number), "type": kind, "direction": direction})
    return json.dumps({"relations": answers})


def llm_settings(server: FakeChatServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "kg_extractor": "llm",
        "llm_base_url": server.url,
        "llm_model": "fake-chat",
        "llm_api_key": SecretStr("sk-test"),
        "llm_cache_ttl_s": 0,
        "llm_timeout_s": 10.0,
        "llm_max_retries": 0,
    }
    return Settings(**(values | overrides))


@pytest.fixture
def server() -> Iterator[FakeChatServer]:
    with FakeChatServer(scripted_model) as fake:
        yield fake


@pytest.fixture
def chunks() -> list[Chunk]:
    return chunks_of(ENGLISH, CHINESE)


@pytest.fixture
def result(server: FakeChatServer, chunks: list[Chunk]) -> GraphExtraction:
    return LLMExtractor(llm_settings(server)).extract(chunks)


def test_registry_builds_the_llm_extractor_without_calling_anything(
    server: FakeChatServer,
) -> None:
    extractor = get_extractor(llm_settings(server))
    extractor.load()
    assert isinstance(extractor, LLMExtractor)
    assert extractor.name == "llm"
    assert server.requests == []


def test_entities_of_english_and_traditional_chinese(result: GraphExtraction) -> None:
    assert entity_types(result) == {
        "steve jobs": "PERSON",
        "apple inc.": "ORGANIZATION",
        "cupertino": "LOCATION",
        "tim cook": "PERSON",
        "马云": "PERSON",
        "阿里巴巴集团": "ORGANIZATION",
        "杭州": "LOCATION",
    }
    names = {e.key: e.name for e in result.entities}
    assert names["马云"] == "馬雲"  # the surface form of the original text
    assert names["阿里巴巴集团"] == "阿里巴巴集團"
    assert [e.key for e in result.entities] == sorted(e.key for e in result.entities)


def test_mentions_are_offsets_into_the_original_chunk_text(
    result: GraphExtraction, chunks: list[Chunk]
) -> None:
    surfaces = [
        (m.entity_key, chunks[m.chunk_index].text[m.start : m.end]) for m in result.mentions
    ]
    assert surfaces == [
        ("steve jobs", "Steve Jobs"),
        ("apple inc.", "Apple Inc."),
        ("cupertino", "Cupertino"),
        ("tim cook", "Tim Cook"),
        ("apple inc.", "Apple Inc."),
        ("马云", "馬雲"),
        ("杭州", "杭州"),
        ("阿里巴巴集团", "阿里巴巴集團"),
    ]


def test_hallucinated_and_off_list_entities_are_dropped(result: GraphExtraction) -> None:
    keys = {e.key for e in result.entities}
    assert "elon musk" not in keys
    assert "ceo" not in keys
    assert all("elon musk" not in (r.source_key, r.target_key) for r in result.relations)


def test_relations_are_typed_directed_and_carry_evidence(result: GraphExtraction) -> None:
    assert typed(result) == {
        ("steve jobs", "FOUNDED", "apple inc."),
        ("apple inc.", "LOCATED_IN", "cupertino"),
        ("tim cook", "LEADS", "apple inc."),
        ("马云", "FOUNDED", "阿里巴巴集团"),  # RE said it backwards; RT turned it round
        ("阿里巴巴集团", "RELATED_TO", "杭州"),  # RT answered a type off the closed list
    }
    founded = relation(result, "马云", "FOUNDED", "阿里巴巴集团")
    assert founded.evidence == CHINESE
    assert founded.source_span is not None
    assert founded.target_span is not None
    assert founded.evidence[slice(*founded.source_span)] == "馬雲"
    assert founded.evidence[slice(*founded.target_span)] == "阿里巴巴集團"
    assert (founded.source_type, founded.target_type) == ("PERSON", "ORGANIZATION")
    assert founded.confidence == 0.95

    leads = relation(result, "tim cook", "LEADS", "apple inc.")
    assert leads.evidence == "Tim Cook is the CEO of Apple Inc. today."  # that sentence only
    assert leads.confidence == 0.8
    assert relation(result, "阿里巴巴集团", "RELATED_TO", "杭州").confidence == 1.0  # clamped


def test_one_relation_per_key_keeps_the_highest_confidence(result: GraphExtraction) -> None:
    founded = relation(result, "steve jobs", "FOUNDED", "apple inc.")
    assert founded.confidence == 0.9
    assert founded.evidence == "Steve Jobs co-founded Apple Inc. in Cupertino."
    keys = [(r.source_key, r.target_key, r.type, r.chunk_index) for r in result.relations]
    assert len(keys) == len(set(keys))
    assert result.relations == sorted(
        result.relations, key=lambda r: (r.chunk_index, r.source_key, r.target_key, r.type)
    )


def test_gleaning_adds_the_missed_entity_with_the_previous_answer_in_context(
    server: FakeChatServer, chunks: list[Chunk]
) -> None:
    without = LLMExtractor(llm_settings(server, llm_gleaning_passes=0)).extract(chunks)
    assert "tim cook" not in entity_types(without)
    assert not [r for r in server.requests if len(r["messages"]) > 2]

    server.requests.clear()
    with_gleaning = LLMExtractor(llm_settings(server, llm_gleaning_passes=1)).extract(chunks)
    assert entity_types(with_gleaning)["tim cook"] == "PERSON"
    gleanings = [r["messages"] for r in server.requests if len(r["messages"]) > 2]
    assert len(gleanings) == 2  # one per chunk
    for messages in gleanings:
        assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
        assert messages[2]["content"] == scripted_model(messages[:2])
        assert messages[3]["content"] == prompts.GLEANING


def test_broken_json_is_repaired(
    server: FakeChatServer, chunks: list[Chunk], result: GraphExtraction
) -> None:
    server.broken_json = True
    extractor = LLMExtractor(llm_settings(server))
    assert extractor.extract(chunks) == result
    assert extractor.stats.unparseable == 0


def test_unparseable_answers_count_as_empty_and_are_logged(
    chunks: list[Chunk], caplog: pytest.LogCaptureFixture
) -> None:
    def prose_for_relations(messages: list[dict[str, Any]]) -> str:
        if messages[0]["content"] == prompts.RE_SYSTEM:
            return "I am sorry, I cannot see any relations here."
        return scripted_model(messages)

    with FakeChatServer(prose_for_relations) as server, caplog.at_level(logging.WARNING):
        extractor = LLMExtractor(llm_settings(server))
        result = extractor.extract(chunks)
    assert len(result.entities) == 7
    assert result.relations == []
    assert extractor.stats.unparseable == 2  # one RE answer per chunk
    assert "unparseable answer" in caplog.text


def test_the_three_stages_called_one_by_one_give_the_same_graph(
    server: FakeChatServer, chunks: list[Chunk], result: GraphExtraction
) -> None:
    extractor = LLMExtractor(llm_settings(server))
    entities, mentions = extractor.ner(chunks)
    candidates = extractor.extract_relations(chunks, entities, mentions)
    assert {r.type for r in candidates} == {"RELATED_TO"}
    assert run_stages(extractor, chunks) == result


def test_requests_ask_for_json_at_temperature_zero(
    server: FakeChatServer, result: GraphExtraction
) -> None:
    assert result.entities
    assert server.requests
    for body in server.requests:
        assert body["model"] == "fake-chat"
        assert body["temperature"] == 0
        assert body["response_format"] == {"type": "json_object"}


def test_empty_input_sends_nothing(server: FakeChatServer) -> None:
    extractor = LLMExtractor(llm_settings(server))
    assert extractor.extract([]) == GraphExtraction([], [], [])
    assert extractor.extract(chunks_of("   ")) == GraphExtraction([], [], [])
    assert server.requests == []


@pytest.mark.parametrize(
    ("field", "value", "variable"),
    [
        ("llm_max_concurrency", 0, "AIBOX_LLM_MAX_CONCURRENCY"),
        ("llm_gleaning_passes", -1, "AIBOX_LLM_GLEANING_PASSES"),
        ("llm_entity_types", (), "AIBOX_LLM_ENTITY_TYPES"),
    ],
)
def test_unsafe_settings_are_refused(
    server: FakeChatServer, field: str, value: Any, variable: str
) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        LLMExtractor(llm_settings(server, **{field: value}))
