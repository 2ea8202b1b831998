"""Labelled queries for the retrieval corpus: generated ones, and questions written by hand.

Generated (``generate``), deterministic for a seed, from each document's source text:

* ``phrase``: a verbatim window of one paragraph, whitespace collapsed: 6–14 words in English,
  10–24 characters in Chinese (whole clauses: from a Han character after punctuation or space
  to a Han character before one, or to 。！？」』）; the spaces line wrapping leaves between two
  Chinese characters removed). Kept when it occurs,
  ignoring whitespace and case, in exactly one document of the split and is mostly letters.
* ``rare_words``: 3–5 whole words, shuffled, that occur in that document only. English:
  alphabetic tokens of 4+ letters, lower-cased, found in no other document of the split (not
  even inside an identifier such as ``PREF_FOLDER``).
  Chinese: jieba words (``tagger.tag``) of 2+ Han characters, in the original Traditional
  script, contained in no other document's text.

Written (``load_questions``): natural-language questions in ``bench/data/retrieval``, each with a
verbatim answer passage from its document, checked against the document's text when loaded.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from aibox.pipeline.graph.heuristic.tagger import tag
from bench.retrieval_corpus import Doc, plan, source_text

DATA = Path(__file__).resolve().parent / "data" / "retrieval"
QUESTION_FILES = {"test": DATA / "questions.jsonl", "dev": DATA / "questions_dev.jsonl"}

PHRASE_WORDS = (6, 14)  # English
PHRASE_CHARS = (10, 24)  # Chinese
RARE_WORDS = (3, 5)
MIN_LETTER_SHARE = 0.5
_ATTEMPTS = 60  # windows tried per wanted phrase

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HAN_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_GAP = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")
# A Chinese phrase ends on a Han character or closing punctuation: 。！？」』）
_CJK_END = re.compile(
    "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3002\uff01\uff1f\u300d\u300f\uff09]"
)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_WHITESPACE = re.compile(r"\s+")
_LETTER_RUN = re.compile(r"[a-z]+")
_ENGLISH_WORD = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z]{4,}(?![A-Za-z0-9_])")


@dataclass(frozen=True)
class Query:
    """A query and the one document that answers it (``answer``: the passage, questions only)."""

    kind: str  # "phrase" | "rare_words" | "question"
    language: str  # "en" | "zh_tw"
    doc_id: str
    text: str
    answer: str | None = None


def squash(text: str) -> str:
    """``text`` without whitespace: how queries and answers are matched against documents."""
    return _WHITESPACE.sub("", text)


def collapse(text: str, language: str) -> str:
    """Whitespace runs as one space; in Chinese, none left between two Chinese characters."""
    collapsed = " ".join(text.split())
    return _CJK_GAP.sub("", collapsed) if language == "zh_tw" else collapsed


def generate(
    docs: Sequence[Doc], texts: dict[str, str], per_doc: int = 2, seed: int = 12
) -> list[Query]:
    """``per_doc`` phrase and ``per_doc`` rare-word queries per document (fewer if it has not)."""
    index = _Index(docs, texts)
    queries: list[Query] = []
    for doc in docs:
        text = texts[doc.doc_id]
        rng = random.Random(f"{seed}:phrase:{doc.doc_id}")
        for phrase in _phrases(doc, text, per_doc, rng, index):
            queries.append(Query("phrase", doc.language, doc.doc_id, phrase))
        rng = random.Random(f"{seed}:rare_words:{doc.doc_id}")
        for bag in _rare_word_bags(doc, per_doc, rng, index):
            queries.append(Query("rare_words", doc.language, doc.doc_id, " ".join(bag)))
    return queries


class _Index:
    """What uniqueness checks need: each document's squashed, case-folded text and words."""

    def __init__(self, docs: Sequence[Doc], texts: dict[str, str]) -> None:
        self.folded = {d.doc_id: squash(texts[d.doc_id]).casefold() for d in docs}
        self.english = {d.doc_id: _english_words(texts[d.doc_id]) for d in docs}
        # Document frequency counts letter runs anywhere, also inside identifiers (PREF_FOLDER,
        # utf8): a word is rare only if no other document has it in any form.
        self.english_df = Counter(
            w for d in docs for w in set(_LETTER_RUN.findall(texts[d.doc_id].lower()))
        )
        self.chinese = {
            d.doc_id: _chinese_words(texts[d.doc_id]) for d in docs if d.language == "zh_tw"
        }
        self.chinese_df = Counter(w for words in self.chinese.values() for w in set(words))

    def documents_containing(self, fragment: str) -> int:
        needle = squash(fragment).casefold()
        return sum(1 for text in self.folded.values() if needle in text)


def _english_words(text: str) -> list[str]:
    return [w.lower() for w in _ENGLISH_WORD.findall(text)]


def _chinese_words(text: str) -> list[str]:
    """jieba's words of two or more Han characters, as written in ``text`` (Traditional)."""
    words = []
    for token in tag(text):
        word = text[token.start : token.end]
        if _HAN_WORD.fullmatch(word):
            words.append(word)
    return words


def _phrases(doc: Doc, text: str, count: int, rng: random.Random, index: _Index) -> list[str]:
    """Up to ``count`` windows of one paragraph each, found in this document only."""
    paragraphs = [collapse(p, doc.language) for p in _PARAGRAPH_BREAK.split(text)]
    chinese = doc.language == "zh_tw"
    low, high = PHRASE_CHARS if chinese else PHRASE_WORDS
    units = [list(p) if chinese else p.split(" ") for p in paragraphs]
    # Chinese windows start and end where a clause does (see _clause_bounds).
    bounds = [_clause_bounds(p) if chinese else ([], []) for p in paragraphs]
    if chinese:
        weights = [
            len(starts) if len(p) >= low else 0
            for p, (starts, _) in zip(paragraphs, bounds, strict=True)
        ]
    else:
        weights = [max(0, len(u) - low + 1) for u in units]
    if not any(weights):
        return []
    chosen: list[str] = []
    taken: list[tuple[int, int, int]] = []  # (paragraph, start, end) of the chosen windows
    for _ in range(count * _ATTEMPTS):
        if len(chosen) == count:
            break
        p = rng.choices(range(len(units)), weights)[0]
        if chinese:
            starts, ends = bounds[p]
            start = rng.choice(starts)
            fitting = [e for e in ends if low <= e - start <= high]
            if not fitting:
                continue
            end = rng.choice(fitting)
        else:
            size = rng.randint(low, min(high, len(units[p])))
            start = rng.randrange(len(units[p]) - size + 1)
            end = start + size
        if any(q == p and start < e and s < end for q, s, e in taken):
            continue
        window = ("" if chinese else " ").join(units[p][start:end])
        if not _good_window(window, doc.language):
            continue
        if index.documents_containing(window) != 1:
            continue
        chosen.append(window)
        taken.append((p, start, end))
    return chosen


def _clause_bounds(paragraph: str) -> tuple[list[int], list[int]]:
    """Where a Chinese window may start (a Han character opening a clause) and end."""

    def is_boundary(c: str) -> bool:  # punctuation or space: not Han, not a letter or digit
        return not (_HAN.match(c) or c.isalnum() or c == "_")

    starts = [
        i
        for i, c in enumerate(paragraph)
        if _HAN.match(c) and (i == 0 or is_boundary(paragraph[i - 1]))
    ]
    ends = [
        j
        for j in range(1, len(paragraph) + 1)
        if _CJK_END.match(paragraph[j - 1])
        and (j == len(paragraph) or is_boundary(paragraph[j]) or not _HAN.match(paragraph[j - 1]))
    ]
    return starts, ends


def _good_window(window: str, language: str) -> bool:
    visible = squash(window)
    if not visible:
        return False
    letters = sum(1 for c in visible if c.isalpha())  # Latin letters and Han characters
    if letters < MIN_LETTER_SHARE * len(visible):
        return False
    if language == "zh_tw":
        return bool(_HAN.match(window[0]) and _CJK_END.match(window[-1]))
    return True


def _rare_word_bags(doc: Doc, count: int, rng: random.Random, index: _Index) -> list[list[str]]:
    """Bags of words found in this document only; words it uses twice or more come first."""
    if doc.language == "en":
        words, df = index.english[doc.doc_id], index.english_df
    else:
        words, df = index.chinese[doc.doc_id], index.chinese_df
    frequency = Counter(words)
    rare = sorted(w for w in frequency if df[w] == 1)
    pools = [[w for w in rare if frequency[w] >= 2], [w for w in rare if frequency[w] == 1]]
    checked: dict[str, bool] = {}

    def unique(word: str) -> bool:
        if doc.language == "en":
            return True
        # jieba may cut the word differently elsewhere: no other text may contain it.
        if word not in checked:
            checked[word] = index.documents_containing(word) == 1
        return checked[word]

    used: set[str] = set()
    bags: list[list[str]] = []
    for _ in range(count):
        size = rng.randint(*RARE_WORDS)
        bag: list[str] = []
        for pool in pools:
            order = [w for w in pool if w not in used]
            rng.shuffle(order)
            for word in order:
                if len(bag) == size:
                    break
                if unique(word):
                    bag.append(word)
        if len(bag) < size:
            break
        used.update(bag)
        rng.shuffle(bag)
        bags.append(bag)
    return bags


# --- questions -----------------------------------------------------------------------------


def load_questions(split: str, docs: Iterable[Doc] | None = None) -> list[Query]:
    """The hand-written questions of ``split``; every answer is checked against its document.

    ``docs`` are the split's documents (``plan(split, ...)`` when not given). Raises
    ``ValueError`` listing every question whose document, language or answer is wrong.
    """
    path = QUESTION_FILES[split]
    by_id = {d.doc_id: d for d in (docs if docs is not None else plan(split, Path(".")))}
    queries: list[Query] = []
    problems: list[str] = []
    texts: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        where = f"{path.name}:{number}"
        doc = by_id.get(record["doc_id"])
        if doc is None:
            problems.append(f"{where}: {record['doc_id']} is not a {split} document")
            continue
        if record["language"] != doc.language:
            problems.append(f"{where}: language {record['language']}, document {doc.language}")
        if doc.doc_id not in texts:
            texts[doc.doc_id] = squash(source_text(doc))
        if squash(record["answer"]) not in texts[doc.doc_id]:
            problems.append(f"{where}: answer not found in {doc.doc_id}: {record['answer'][:60]!r}")
        queries.append(
            Query("question", record["language"], doc.doc_id, record["question"], record["answer"])
        )
    if problems:
        raise ValueError(f"{len(problems)} bad question(s):\n" + "\n".join(problems))
    return queries
