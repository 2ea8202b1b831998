"""The heuristic extractor on Traditional and Simplified Chinese text."""

from __future__ import annotations

import itertools

import pytest

from aibox.pipeline.graph import get_extractor, normalise_key
from aibox.pipeline.graph.base import Extractor
from aibox.pipeline.graph.heuristic import tagger
from aibox.pipeline.graph.normalise import to_simplified
from aibox.pipeline.types import GraphExtraction
from aibox.settings import Settings
from tests.pipeline.graph.helpers import chunks_of, entity_types, relation, typed

TRADITIONAL = (
    "張忠謀於1987年創辦台灣積體電路製造公司，總部位於新竹。"
    "台積電董事長魏哲家出生於台北。"
    "鴻海精密工業股份有限公司創辦人郭台銘表示，鴻海與微軟合作。"
    "王小明任職於中央研究院。"
)
SIMPLIFIED = (
    "马云于1999年在杭州创立阿里巴巴集团。"
    "腾讯收购了搜狗公司。"
    "雷军是小米集团的董事长。"
    "清华大学和北京大学合作。"
)


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    extractor = get_extractor(Settings(kg_extractor="heuristic"))
    extractor.load()
    return extractor


@pytest.fixture(scope="module")
def traditional(extractor: Extractor) -> GraphExtraction:
    return extractor.extract(chunks_of(TRADITIONAL))


def test_traditional_entities(traditional: GraphExtraction) -> None:
    types = entity_types(traditional)
    expected = {
        "张忠谋": "PERSON",
        "台湾积体电路制造公司": "ORGANIZATION",
        "新竹": "LOCATION",
        "台积电": "ORGANIZATION",
        "魏哲家": "PERSON",
        "台北": "LOCATION",
        "鸿海精密工业股份有限公司": "ORGANIZATION",
        "郭台铭": "PERSON",
        "微软": "ORGANIZATION",
        "王小明": "PERSON",
        "中央研究院": "ORGANIZATION",
    }
    assert expected.items() <= types.items()


def test_names_and_offsets_are_the_original_traditional_text(traditional: GraphExtraction) -> None:
    names = {entity.key: entity.name for entity in traditional.entities}
    assert names["张忠谋"] == "張忠謀"
    assert names["台湾积体电路制造公司"] == "台灣積體電路製造公司"
    for mention in traditional.mentions:
        surface = TRADITIONAL[mention.start : mention.end]
        assert surface == names[mention.entity_key]
        assert normalise_key(surface) == mention.entity_key
    first = traditional.mentions[0]
    assert (first.start, first.end) == (0, 3)


def test_traditional_relations(traditional: GraphExtraction) -> None:
    found = typed(traditional)
    assert ("张忠谋", "FOUNDED", "台湾积体电路制造公司") in found
    assert ("台湾积体电路制造公司", "LOCATED_IN", "新竹") in found
    assert ("魏哲家", "LEADS", "台积电") in found  # 台積電董事長魏哲家: the title's holder follows
    assert ("魏哲家", "BORN_IN", "台北") in found
    assert ("郭台铭", "FOUNDED", "鸿海精密工业股份有限公司") in found
    assert ("王小明", "WORKS_FOR", "中央研究院") in found
    # The founder title belongs to 郭台銘's clause, not to the partnership after the comma.
    assert not any(
        kind == "FOUNDED" and source == "鸿海精密工业股份有限公司" for source, kind, _ in found
    )
    founded = relation(traditional, "张忠谋", "FOUNDED", "台湾积体电路制造公司")
    assert founded.evidence == "張忠謀於1987年創辦台灣積體電路製造公司，總部位於新竹。"


def test_simplified_relations(extractor: Extractor) -> None:
    result = extractor.extract(chunks_of(SIMPLIFIED))
    found = typed(result)
    assert ("马云", "FOUNDED", "阿里巴巴集团") in found
    assert ("腾讯", "ACQUIRED", "搜狗公司") in found
    assert ("雷军", "LEADS", "小米集团") in found
    partners = {(s, t) for s, kind, t in found if kind == "PARTNER_OF"}
    assert partners in ({("清华大学", "北京大学")}, {("北京大学", "清华大学")})
    assert entity_types(result)["杭州"] == "LOCATION"


def test_passive_markers_reverse_direction(extractor: Extractor) -> None:
    found = typed(extractor.extract(chunks_of("搜狗公司被騰訊收購。阿里巴巴集團由馬雲創立。")))
    assert ("腾讯", "ACQUIRED", "搜狗公司") in found
    assert ("马云", "FOUNDED", "阿里巴巴集团") in found


def test_keys_merge_across_traditional_and_simplified(extractor: Extractor) -> None:
    result = extractor.extract(chunks_of("台積電位於新竹。", "台积电位于新竹。"))
    assert [entity.key for entity in result.entities] == ["台积电", "新竹"]
    assert result.entities[0].name == "台積電"  # the first surface seen
    assert [(m.chunk_index, m.start, m.end) for m in result.mentions] == [
        (0, 0, 3),
        (0, 5, 7),
        (1, 0, 3),
        (1, 5, 7),
    ]


def test_noise_is_not_an_entity(extractor: Extractor) -> None:
    result = extractor.extract(
        chunks_of("他們今天很高興，天氣很好。我們一起去吃飯。公司的總部在這裡。")
    )
    assert result.entities == []
    assert result.relations == []


def test_tokens_map_back_when_conversion_changes_length(
    extractor: Extractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aibox.pipeline.graph import normalise

    real = normalise.load_converter()

    class Expanding:
        def convert(self, text: str) -> str:
            return str(real.convert(text)).replace("湾", "湾湾")

    monkeypatch.setattr(normalise, "load_converter", lambda: Expanding())
    text = "張忠謀創辦台灣積體電路製造公司，總部位於新竹。"
    tokens = tagger.tag(text)
    assert tokens[0].start == 0
    assert tokens[-1].end == len(text)
    for token, following in itertools.pairwise(tokens):
        assert token.start <= following.start
        if "湾" not in token.word:
            assert to_simplified(text[token.start : token.end]) == token.word
    result = extractor.extract(chunks_of(text))
    for mention in result.mentions:
        surface = text[mention.start : mention.end]
        assert normalise_key(surface) == mention.entity_key
    spans = {text[m.start : m.end] for m in result.mentions}
    assert {"張忠謀", "新竹"} <= spans


def test_simplified_conversion_of_the_tagged_words() -> None:
    words = [token.word for token in tagger.tag("總部位於新竹")]
    assert "".join(words) == to_simplified("總部位於新竹")
