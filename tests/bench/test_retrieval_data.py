"""The retrieval benchmark's labelled data: corpus selection, generated queries, questions.

Everything is read from the installed Debian packages (skipped when one is missing); nothing
needs a server. The corpus files themselves are not built here (that takes Chromium and ~20 s);
one document of each kind is written to a temporary directory instead.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from aibox.pipeline.parsers import parse_file
from bench import retrieval_corpus as corpus
from bench.retrieval_queries import (
    QUESTION_FILES,
    Query,
    generate,
    load_questions,
    squash,
)

_MISSING = corpus.missing_sources()
pytestmark = pytest.mark.skipif(
    bool(_MISSING), reason=f"Debian packages missing: {'; '.join(_MISSING.values())}"
)


@pytest.fixture(scope="module")
def splits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[corpus.Doc]]:
    root = tmp_path_factory.mktemp("retrieval")
    return {split: corpus.plan(split, root / split) for split in corpus.SPLITS}


@pytest.fixture(scope="module")
def texts(splits: dict[str, list[corpus.Doc]]) -> dict[str, str]:
    return {d.doc_id: corpus.source_text(d) for d in splits["test"]}


@pytest.fixture(scope="module")
def queries(splits: dict[str, list[corpus.Doc]], texts: dict[str, str]) -> list[Query]:
    return generate(splits["test"], texts)


def test_dev_and_test_share_sources_and_formats_but_no_document(
    splits: dict[str, list[corpus.Doc]],
) -> None:
    dev, test = splits["dev"], splits["test"]
    assert not {d.doc_id for d in dev} & {d.doc_id for d in test}
    assert not {d.source for d in dev} & {d.source for d in test}
    for docs, size in ((dev, 40), (test, 90)):
        assert len(docs) == size
        assert len({d.doc_id for d in docs}) == len({d.source for d in docs}) == size
        by_language = Counter(d.language for d in docs)
        assert by_language["en"] == by_language["zh_tw"] == size // 2
        kinds = Counter((d.language, d.format, d.encoding) for d in docs)
        for language in corpus.LANGUAGES:
            assert kinds[(language, "pdf", None)] >= 4
            assert kinds[(language, "docx", None)] >= 4
            assert kinds[(language, "html", None)] >= 3
            assert kinds[(language, "txt", "utf-8")] >= 4
        assert kinds[("zh_tw", "txt", "cp950")] >= 3
    assert {d.doc_id.split("/")[0] for d in dev} == {d.doc_id.split("/")[0] for d in test}


def test_selection_is_deterministic(tmp_path: Path) -> None:
    first = corpus.select("test", tmp_path)
    corpus._selected.cache_clear()
    assert corpus.select("test", tmp_path) == first
    assert first[0].path.is_relative_to(tmp_path)


def test_the_frozen_plan_names_installed_documents(splits: dict[str, list[corpus.Doc]]) -> None:
    for docs in splits.values():
        for doc in docs:
            original = doc.source.partition(":")[2]
            assert Path(original).is_file(), doc.source
            assert doc.doc_id.split("/")[0] in {s.name for s in corpus.SOURCES}


def test_chinese_documents_are_chinese_and_english_ones_english(texts: dict[str, str]) -> None:
    for doc_id, text in texts.items():
        han = len(re.findall(r"[\u4e00-\u9fff]", text))
        if doc_id.split("/")[0].endswith("-zh"):
            assert corpus._han_prose(text) >= corpus.MIN_HAN_PROSE, doc_id
        else:
            assert han < 10, doc_id
        assert corpus.MIN_TEXT_BYTES <= len(text.encode()) <= corpus.MAX_TEXT_BYTES


def test_generated_queries_are_deterministic(
    splits: dict[str, list[corpus.Doc]], texts: dict[str, str], queries: list[Query]
) -> None:
    few = splits["test"][:6] + splits["test"][-6:]  # fast: the same generator on fewer texts
    subset = {d.doc_id: texts[d.doc_id] for d in few}
    assert generate(few, subset) == generate(few, subset)
    assert generate(few, subset, seed=13) != generate(few, subset)
    counts = Counter((q.kind, q.language) for q in queries)
    for kind in ("phrase", "rare_words"):
        for language in corpus.LANGUAGES:
            assert counts[(kind, language)] >= 70, (kind, language)


def test_every_phrase_is_verbatim_in_exactly_one_document(
    texts: dict[str, str], queries: list[Query]
) -> None:
    folded = {doc_id: squash(text).casefold() for doc_id, text in texts.items()}
    phrases = [q for q in queries if q.kind == "phrase"]
    for query in phrases:
        needle = squash(query.text).casefold()
        assert [d for d, text in folded.items() if needle in text] == [query.doc_id], query
        if query.language == "en":
            assert 6 <= len(query.text.split()) <= 14
            assert query.text in " ".join(texts[query.doc_id].split())
        else:
            assert 10 <= len(query.text) <= 24
            assert "  " not in query.text
            assert query.text == query.text.strip()
    assert len({q.text for q in phrases}) == len(phrases)


def test_rare_words_occur_in_their_document_only(
    texts: dict[str, str], queries: list[Query]
) -> None:
    english = {d: set(re.findall(r"[a-z]+", t.lower())) for d, t in texts.items()}
    for query in (q for q in queries if q.kind == "rare_words"):
        words = query.text.split()
        assert 3 <= len(words) <= 5
        assert len(set(words)) == len(words)
        for word in words:
            if query.language == "en":
                assert re.fullmatch(r"[a-z]{4,}", word)
                assert [d for d, ws in english.items() if word in ws] == [query.doc_id]
            else:
                assert re.fullmatch(r"[\u3400-\u9fff\uf900-\ufaff]{2,}", word), word
                assert [d for d, t in texts.items() if word in t] == [query.doc_id]


@pytest.mark.parametrize("split", corpus.SPLITS)
def test_every_question_is_answered_by_its_document(
    split: str, splits: dict[str, list[corpus.Doc]]
) -> None:
    questions = load_questions(split, splits[split])
    counts = Counter(q.language for q in questions)
    documents = {
        language: {q.doc_id for q in questions if q.language == language}
        for language in corpus.LANGUAGES
    }
    if split == "test":
        assert counts["en"] >= 35
        assert counts["zh_tw"] >= 35
        assert len(documents["en"]) >= 25
        assert len(documents["zh_tw"]) >= 25
    else:
        assert counts["en"] >= 10
        assert counts["zh_tw"] >= 10
    by_id = {d.doc_id: d for d in splits[split]}
    for query in questions:
        assert query.kind == "question"
        assert query.answer
        assert by_id[query.doc_id].language == query.language
        assert squash(query.answer) not in squash(query.text), "paraphrase, do not copy"
    chinese = [q.text for q in questions if q.language == "zh_tw"]
    assert all(re.search(r"[\u4e00-\u9fff]", text) for text in chinese)


def test_a_wrong_answer_is_reported_with_its_line(
    splits: dict[str, list[corpus.Doc]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = splits["dev"][0]
    bad = tmp_path / "questions.jsonl"
    record = {"doc_id": doc.doc_id, "language": doc.language, "question": "q?", "answer": "nope"}
    bad.write_text(json.dumps(record) + "\n", encoding="utf-8")
    monkeypatch.setitem(QUESTION_FILES, "dev", bad)
    with pytest.raises(ValueError, match=r"questions\.jsonl:1: answer not found"):
        load_questions("dev", splits["dev"])


@pytest.fixture
def one_of_each(splits: dict[str, list[corpus.Doc]]) -> list[corpus.Doc]:
    """A document of each (source kind, format, encoding), PDFs left out (Chromium is slow)."""
    seen: dict[tuple[str, str, str | None], corpus.Doc] = {}
    for doc in splits["dev"]:
        kind = "man" if doc.source.startswith("manpages") else "html"
        seen.setdefault((kind, doc.format, doc.encoding), doc)
    return [d for key, d in sorted(seen.items()) if key[1] != "pdf"]


def test_written_documents_parse_back_to_their_text(
    one_of_each: list[corpus.Doc], tmp_path: Path
) -> None:
    assert len(one_of_each) >= 6
    for planned in one_of_each:
        doc = corpus.write_document(planned, None, tmp_path)
        assert doc == planned
        parsed = parse_file(doc.path, doc.format)
        source = corpus.source_text(doc)
        if doc.format == "txt":
            assert parsed.text == source
            assert parsed.encoding is not None
            assert (doc.encoding == "cp950") == ("utf" not in parsed.encoding.lower())
        else:  # the same characters, whitespace aside (man pages as HTML gain a title)
            assert squash(source) in squash(parsed.text)


def test_without_chromium_a_pdf_is_written_as_html(
    splits: dict[str, list[corpus.Doc]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    planned = next(d for d in splits["dev"] if d.format == "pdf")
    doc = corpus.write_document(planned, None, tmp_path)
    assert (doc.format, doc.path.suffix) == ("html", ".html")
    assert "Chromium not found" in doc.note
    assert "Chromium not found" in caplog.text
    assert not planned.path.exists()
    assert squash(corpus.source_text(doc)) in squash(parse_file(doc.path, "html").text)


def test_a_manifest_is_reused_only_for_its_own_split(
    one_of_each: list[corpus.Doc], tmp_path: Path
) -> None:
    dest = one_of_each[0].path.parents[1]
    written = [corpus.write_document(d, None, tmp_path) for d in one_of_each]
    corpus._save_manifest(dest, "dev", written, 1.0)
    assert corpus.build(dest, "dev") == written  # complete: nothing rebuilt
    with pytest.raises(corpus.CorpusError, match="holds the 'dev' split"):
        corpus.build(dest, "test")
    written[0].path.unlink()
    assert corpus._load_manifest(dest, "dev") is None  # incomplete: rebuilt by build()
