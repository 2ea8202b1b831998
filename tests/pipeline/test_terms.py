"""The search analyzer: the terms that documents and queries meet on."""

from __future__ import annotations

from aibox.pipeline.terms import analyze, file_terms, term_counts
from aibox.pipeline.types import Chunk


def test_traditional_and_simplified_and_taiwan_wording_meet() -> None:
    assert analyze("網路配置") == analyze("网络配置") == ["网络", "配置"]
    # Phrase conversion, not only characters: Taiwan's words become the mainland's.
    assert analyze("檔案") == analyze("文件")
    assert analyze("軟體") == analyze("软件")
    assert analyze("記憶體") == analyze("内存")


def test_a_line_break_inside_chinese_text_does_not_split_words() -> None:
    assert analyze("列出目\n  錄內容") == analyze("列出目錄內容")
    # Between Latin words the break stays a word boundary.
    assert analyze("git\ncommit") == ["git", "commit"]


def test_width_case_punctuation_and_stems() -> None:
    assert analyze("ＧＩＴ Commit") == ["git", "commit"]
    assert analyze("core.autocrlf x86_64") == ["core", "autocrlf", "x86", "64"]
    assert analyze("configuring") == analyze("configuration") == analyze("configure")
    assert analyze("the cat and the hat") == ["cat", "hat"]  # Lucene's English stop words
    assert "的" not in analyze("我的文件")


def test_text_that_cannot_be_searched_for_yields_no_terms() -> None:
    assert analyze("") == []
    assert analyze(" \n\t。，！ --- ") == []
    assert analyze("a" * 41) == []  # longer than any word: an identifier or a blob
    # A lone surrogate (invalid text from a broken file) neither crashes nor becomes a term.
    assert analyze("網路\ud800配置") == ["网络", "配置"]


def test_a_copied_phrase_is_cut_as_in_its_document() -> None:
    document = "覆蓋使用者的登入名。如果未指定$USER，就用$LOGNAME，再不行就用密碼檔。"
    phrase = "如果未指定$USER，就用$"
    terms = analyze(document)
    assert all(term in terms for term in analyze(phrase))


def test_counts_and_postings() -> None:
    counts, length = term_counts("apple banana apple")
    assert counts == {"appl": 2, "banana": 1}
    assert length == 3
    terms = file_terms([Chunk(0, "apple pie", 0, 9), Chunk(1, "apple apple", 10, 21)])
    assert terms.postings == {"appl": [(0, 1), (1, 2)], "pie": [(0, 1)]}
    assert terms.lengths == {0: 2, 1: 2}
