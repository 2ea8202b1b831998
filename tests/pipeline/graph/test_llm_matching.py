"""Locating the model's entity names in a chunk: exact first, then case/script-insensitive."""

from __future__ import annotations

from aibox.pipeline.graph.llm.matching import ChunkText


def spans_of(text: str, name: str) -> list[str]:
    return [text[start:end] for start, end in ChunkText(text).find(name)]


def test_exact_matches_are_all_found_and_preferred() -> None:
    text = "Apple and APPLE: Apple again."
    assert ChunkText(text).find("Apple") == [(0, 5), (17, 22)]


def test_case_insensitive_when_there_is_no_exact_match() -> None:
    assert spans_of("Shares of APPLE INC. rose.", "Apple Inc.") == ["APPLE INC."]


def test_whole_words_only_in_spaced_scripts() -> None:
    assert ChunkText("Applesauce and Snapple are not Apple.").find("Apple") == [(31, 36)]
    assert ChunkText("Pineapples").find("apple") == []


def test_simplified_name_found_in_traditional_text_with_original_offsets() -> None:
    text = "據報導，馬雲在杭州創立了阿里巴巴集團。"
    found = ChunkText(text).find("阿里巴巴集团")
    assert found == [(12, 18)]
    assert text[12:18] == "阿里巴巴集團"
    assert spans_of(text, "马云") == ["馬雲"]


def test_chinese_names_need_no_word_boundaries() -> None:
    assert spans_of("馬雲在杭州創立了公司", "杭州") == ["杭州"]


def test_whitespace_and_width_differences_are_folded() -> None:
    text = "Founded by Steve\n  Jobs in ＣＡＬＩＦＯＲＮＩＡ."
    assert spans_of(text, "Steve Jobs") == ["Steve\n  Jobs"]
    assert spans_of(text, "California") == ["ＣＡＬＩＦＯＲＮＩＡ"]


def test_names_not_in_the_text_are_not_found() -> None:
    assert ChunkText("Steve Jobs founded Apple.").find("Elon Musk") == []
    assert ChunkText("Steve Jobs founded Apple.").find("  ") == []
