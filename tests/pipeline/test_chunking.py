"""chunk_text and chunk_document: offsets, budget, overlap, hard splits, headings, pages."""

from __future__ import annotations

import bisect
import itertools
import pathlib
import random
from collections.abc import Callable

import pytest

from aibox.pipeline.chunking import chunk_document, chunk_text
from aibox.pipeline.parsers import parse_file
from aibox.pipeline.sentences import split_sentences
from aibox.pipeline.types import Chunk, Document

EN_WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while"]
EN_WORDS += ["Dr.", "Smith", "reads", "e.g.", "books", "U.S.", "Mr."]
ZH_CHARS = "台積電成立於年總部位新竹科學園區是全球最大的專業積體電路製造服務公司"
ZH_MARKS = ["。", "！", "？", "，", "、", "；", "」", ""]


def random_english(rng: random.Random, sentences: int) -> str:
    parts = []
    for _ in range(sentences):
        words = [rng.choice(EN_WORDS) for _ in range(rng.randint(1, 30))]
        parts.append(" ".join(words).capitalize() + rng.choice([".", "!", "?", "...", '."']))
        parts.append(rng.choice([" ", " ", "  ", "\n", "\n\n", " \t"]))
    return "".join(parts)


def random_chinese(rng: random.Random, sentences: int) -> str:
    parts = []
    for _ in range(sentences):
        parts.append("".join(rng.choice(ZH_CHARS) for _ in range(rng.randint(1, 60))))
        parts.append(rng.choice(ZH_MARKS))
        if rng.random() < 0.1:
            parts.append("\n\n")
    return "".join(parts)


def random_mixed(rng: random.Random, sentences: int) -> str:
    parts = [
        random_english(rng, 1) if rng.random() < 0.5 else random_chinese(rng, 1)
        for _ in range(sentences)
    ]
    return "".join(parts)


def assert_valid_chunks(text: str, chunks: list[Chunk], size: int, overlap: int) -> None:
    """Check every invariant chunk_text promises, for every chunk."""
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert 0 < len(chunk.text) <= size
        assert chunk.text == chunk.text.strip()
    stripped = text.strip()
    if not stripped:
        assert chunks == []
        return
    # Together the chunks cover all the text but surrounding whitespace.
    assert chunks[0].start == len(text) - len(text.lstrip())
    assert chunks[-1].end == len(text.rstrip())
    for prev, nxt in itertools.pairwise(chunks):
        assert nxt.start > prev.start, "a chunk must move forward"
        assert nxt.end > prev.end, "a chunk must add new text"
        if nxt.start < prev.end:
            assert prev.end - nxt.start <= overlap
        else:
            assert not text[prev.end : nxt.start].strip(), "text between chunks was dropped"


@pytest.mark.parametrize("make", [random_english, random_chinese, random_mixed])
@pytest.mark.parametrize(("size", "overlap"), [(1, 0), (7, 3), (40, 0), (120, 40), (800, 120)])
@pytest.mark.parametrize("seed", range(4))
def test_invariants_on_random_text(
    make: Callable[[random.Random, int], str], size: int, overlap: int, seed: int
) -> None:
    text = make(random.Random(seed), 200)
    chunks = chunk_text(text, size_chars=size, overlap_chars=overlap)
    assert_valid_chunks(text, chunks, size, overlap)


def test_exact_packing_with_sentence_overlap() -> None:
    text = "Aaa bb. Cc dd. Ee ff. Gg hh. Ii jj."
    chunks = chunk_text(text, size_chars=21, overlap_chars=7)
    assert [(c.start, c.end, c.text) for c in chunks] == [
        (0, 21, "Aaa bb. Cc dd. Ee ff."),
        (15, 35, "Ee ff. Gg hh. Ii jj."),
    ]


def test_overlap_consists_of_whole_sentences() -> None:
    rng = random.Random(7)
    words = ["alpha", "beta", "gamma", "delta", "epsilon"]
    text = " ".join(
        " ".join(rng.choice(words) for _ in range(rng.randint(1, 12))).capitalize() + "."
        for _ in range(300)
    )
    sentences = split_sentences(text)
    assert max(end - start for start, end in sentences) < 300
    chunks = chunk_text(text, size_chars=300, overlap_chars=100)
    assert_valid_chunks(text, chunks, 300, 100)
    assert all(b.start < a.end for a, b in itertools.pairwise(chunks))
    assert {c.start for c in chunks} <= {start for start, _ in sentences}
    assert {c.end for c in chunks} <= {end for _, end in sentences}


def test_split_sentences_ends_at_question_or_ellipsis_after_abbreviation() -> None:
    text = "Did you move to the U.S.? I did. Ask Dr.... He left. See Dr. Smith."
    assert [text[start:end] for start, end in split_sentences(text)] == [
        "Did you move to the U.S.?",
        "I did.",
        "Ask Dr....",
        "He left.",
        "See Dr. Smith.",
    ]


def test_no_overlap_when_zero() -> None:
    text = random_english(random.Random(3), 100)
    chunks = chunk_text(text, size_chars=200, overlap_chars=0)
    assert all(b.start >= a.end for a, b in itertools.pairwise(chunks))


def test_overlap_takes_as_many_trailing_sentences_as_fit() -> None:
    # Chunks hold three "Go." sentences (11 chars); two of them (7 chars) fit the overlap and
    # leave room for one new sentence, so each chunk moves forward by exactly one sentence.
    text = " ".join(["Go."] * 20)
    chunks = chunk_text(text, size_chars=11, overlap_chars=9)
    assert_valid_chunks(text, chunks, 11, 9)
    assert [c.start for c in chunks] == [4 * i for i in range(18)]
    assert {c.text for c in chunks} == {"Go. Go. Go."}


def test_single_50kb_english_sentence_is_cut_at_spaces() -> None:
    rng = random.Random(1)
    text = " ".join(rng.choice(EN_WORDS).rstrip(".") for _ in range(12_000))[:50_000]
    assert len(split_sentences(text)) == 1
    chunks = chunk_text(text, size_chars=500, overlap_chars=100)
    assert_valid_chunks(text, chunks, 500, 100)
    for chunk in chunks[:-1]:
        assert text[chunk.end] == " "
        assert len(chunk.text) > 250


def test_single_50kb_chinese_sentence_without_breaks_is_cut_at_the_budget() -> None:
    text = ("台積電" * 17_000)[:50_000]
    chunks = chunk_text(text, size_chars=800, overlap_chars=120)
    assert_valid_chunks(text, chunks, 800, 120)
    assert [len(c.text) for c in chunks] == [800] * 62 + [400]


def test_long_chinese_sentence_is_cut_after_clause_marks() -> None:
    clause = "台積電總部位於新竹科學園區，"  # 14 characters
    text = clause * 20 + "結束。"
    chunks = chunk_text(text, size_chars=50, overlap_chars=0)
    assert_valid_chunks(text, chunks, 50, 0)
    assert all(c.text.endswith("，") for c in chunks[:-1])
    assert [len(c.text) for c in chunks[:-1]] == [42] * 6


def test_whole_text_in_one_chunk_when_it_fits() -> None:
    text = "  First sentence.  Second one!\n"
    chunks = chunk_text(text, size_chars=100, overlap_chars=10)
    assert chunks == [Chunk(index=0, text="First sentence.  Second one!", start=2, end=30)]


@pytest.mark.parametrize("text", ["", " ", "\n\n\t \u3000 \n"])
def test_blank_text_has_no_chunks(text: str) -> None:
    assert chunk_text(text, size_chars=100, overlap_chars=10) == []


def test_deterministic() -> None:
    text = random_mixed(random.Random(11), 500)
    first = chunk_text(text, size_chars=300, overlap_chars=50)
    assert first == chunk_text(text, size_chars=300, overlap_chars=50)


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (-5, 0), (10, -1), (10, 10), (10, 11)])
def test_invalid_arguments(size: int, overlap: int) -> None:
    with pytest.raises(ValueError, match="_chars"):
        chunk_text("Some text.", size_chars=size, overlap_chars=overlap)


# --- chunk_document: headings, pages and real documents ----------------------------------------

DOCS = pathlib.Path(__file__).resolve().parents[1] / "data" / "docs"
FIXTURES = sorted(p.name for p in DOCS.iterdir() if p.suffix in {".html", ".pdf", ".docx"})


def assert_valid_document_chunks(
    document: Document, chunks: list[Chunk], size: int, overlap: int
) -> None:
    """chunk_text's invariants plus headings kept with their text and the page of each chunk."""
    assert_valid_chunks(document.text, chunks, size, overlap)
    headings = document.headings
    for chunk in chunks:
        for number, (start, end) in enumerate(headings):
            if chunk.start <= start and end == chunk.end:
                # Allowed only for a heading that ends the document, or when the next heading
                # follows at once and cannot fit as well.
                if not document.text[end:].strip():
                    continue
                following = headings[number + 1] if number + 1 < len(headings) else None
                assert following is not None, f"chunk {chunk.index} ends with a heading"
                assert not document.text[end : following[0]].strip()
                assert following[1] - chunk.start > size
    if not document.pages:
        assert all(chunk.page is None for chunk in chunks)
        return
    starts = [offset for offset, _ in document.pages]
    for chunk in chunks:
        expected = document.pages[max(bisect.bisect_right(starts, chunk.start) - 1, 0)][1]
        assert chunk.page == expected
    assert [c.page for c in chunks] == sorted(c.page for c in chunks if c.page is not None)


@pytest.mark.parametrize("name", FIXTURES)
@pytest.mark.parametrize(("size", "overlap"), [(120, 30), (300, 60), (1000, 0)])
def test_invariants_on_real_documents(name: str, size: int, overlap: int) -> None:
    document = parse_file(DOCS / name, name.rsplit(".", 1)[1])
    chunks = chunk_document(document, size_chars=size, overlap_chars=overlap)
    assert_valid_document_chunks(document, chunks, size, overlap)
    if document.headings:
        # Every heading starts a chunk or sits inside one with text after it.
        starts = {c.start for c in chunks}
        assert any(start in starts for start, _ in document.headings)


def test_pdf_chunks_know_their_pages() -> None:
    document = parse_file(DOCS / "python-tutorial-appetite.pdf", "pdf")
    chunks = chunk_document(document, size_chars=400, overlap_chars=80)
    assert chunks[0].page == 1
    assert chunks[-1].page == 2
    second_page = document.pages[1][0]
    assert all(c.page == (1 if c.start < second_page else 2) for c in chunks)


def test_chinese_chunks_end_on_sentence_boundaries() -> None:
    document = parse_file(DOCS / "debian-reference-ch04.zh-tw.html", "html")
    size = 200
    chunks = chunk_document(document, size_chars=size, overlap_chars=40)
    assert_valid_document_chunks(document, chunks, size, 40)
    sentences = split_sentences(document.text)
    boundaries = {end for _, end in sentences} | {end for _, end in document.headings}
    for chunk in chunks:
        if chunk.end in boundaries:
            continue
        # Only a sentence longer than the budget may be cut inside.
        start, end = next((s, e) for s, e in sentences if s < chunk.end <= e)
        assert end - start > size, chunk.text
    ends = [c.text[-1] for c in chunks]
    assert sum(char in "。！？" for char in ends) >= len(chunks) // 3


def test_heading_starts_a_new_chunk_when_the_current_one_is_half_full() -> None:
    text = "First sentence here. Second one here.\n\n## Next part\n\nBody one. Body two."
    heading = text.index("## Next part")
    document = Document(text, "md", headings=((heading, heading + 12),))
    chunks = chunk_document(document, size_chars=60, overlap_chars=25)
    assert [c.text for c in chunks] == [
        "First sentence here. Second one here.",
        "## Next part\n\nBody one. Body two.",
    ]


def test_heading_joins_a_chunk_less_than_half_full() -> None:
    text = "Short.\n\n## Next\n\nBody one. Body two is a little longer."
    heading = text.index("## Next")
    document = Document(text, "md", headings=((heading, heading + 7),))
    chunks = chunk_document(document, size_chars=30, overlap_chars=0)
    assert [c.text for c in chunks] == [
        "Short.\n\n## Next\n\nBody one.",
        "Body two is a little longer.",
    ]


def test_heading_never_ends_a_chunk() -> None:
    # The heading fits after "Intro." but its first sentence does not: it moves on.
    text = "Intro.\n\n## Heading\n\nThe first sentence of the section."
    heading = text.index("## Heading")
    document = Document(text, "md", headings=((heading, heading + 10),))
    chunks = chunk_document(document, size_chars=50, overlap_chars=10)
    assert [c.text for c in chunks] == [
        "Intro.",
        "## Heading\n\nThe first sentence of the section.",
    ]


def test_sentence_after_a_lone_heading_is_cut_to_join_it() -> None:
    sentence = "word " * 30 + "end."
    text = f"# Title\n\n{sentence}"
    document = Document(text, "md", headings=((0, 7),))
    chunks = chunk_document(document, size_chars=60, overlap_chars=0)
    assert_valid_document_chunks(document, chunks, 60, 0)
    assert chunks[0].text.startswith("# Title\n\nword word")
    assert "".join(c.text for c in chunks[1:]).replace("word", "").strip(" .end") == ""


def test_no_overlap_carried_across_a_heading() -> None:
    text = "One. Two. Three. Four. Five. Six.\n\n# H\n\nSeven. Eight."
    heading = text.index("# H")
    document = Document(text, "md", headings=((heading, heading + 3),))
    chunks = chunk_document(document, size_chars=40, overlap_chars=20)
    assert chunks[-1].text == "# H\n\nSeven. Eight."
    assert chunks[-2].end < heading


def test_page_of_each_chunk() -> None:
    text = "Page one text.\n\nPage two text. More page two.\n\nPage five text."
    pages = ((0, 1), (text.index("Page two"), 2), (text.index("Page five"), 5))
    document = Document(text, "pdf", pages=pages)
    chunks = chunk_document(document, size_chars=16, overlap_chars=0)
    assert [(c.text, c.page) for c in chunks] == [
        ("Page one text.", 1),
        ("Page two text.", 2),
        ("More page two.", 2),
        ("Page five text.", 5),
    ]


@pytest.mark.parametrize("seed", range(3))
def test_chunk_text_is_chunk_document_without_headings(seed: int) -> None:
    text = random_mixed(random.Random(seed), 300)
    document = Document(text, "txt")
    assert chunk_text(text, size_chars=200, overlap_chars=50) == chunk_document(
        document, size_chars=200, overlap_chars=50
    )


@pytest.mark.parametrize("seed", range(6))
def test_random_headings_keep_invariants(seed: int) -> None:
    rng = random.Random(seed)
    parts: list[str] = []
    headings: list[tuple[int, int]] = []
    offset = 0
    for _ in range(60):
        if rng.random() < 0.3:
            title = "#" * rng.randint(1, 3) + " " + random_english(rng, 1).strip()[:40]
            headings.append((offset, offset + len(title)))
            block = title
        else:
            block = random_mixed(rng, rng.randint(1, 5)).strip() or "x."
        parts.append(block + "\n\n")
        offset += len(block) + 2
    document = Document("".join(parts), "md", headings=tuple(headings))
    for size, overlap in [(60, 20), (200, 50), (500, 0)]:
        chunks = chunk_document(document, size_chars=size, overlap_chars=overlap)
        assert_valid_document_chunks(document, chunks, size, overlap)
        assert chunks == chunk_document(document, size_chars=size, overlap_chars=overlap)
