"""Search terms of a text: the one analyzer that the full-text index and its queries share.

A document and a query meet only on terms, so both go through :func:`analyze`:

1. NFKC and case folding (full-width ＡＢＣ１２３ becomes abc123). Chinese is brought to one
   form: OpenCC's ``s2twp`` (to Taiwan's script and words) and then ``tw2sp`` (back to Simplified
   with mainland words), phrases and not only characters, so 網路 and 网络 are one term, as
   are 檔案 and 文件, 軟體 and 软件, 使用者 and 用户. Both directions matter: ``tw2sp`` alone
   would turn a Simplified 文件 into 文档 while turning 檔案 into 文件, and ``t2s`` alone
   (what entity keys use) turns 網路 into 网路, not 网络.
2. Whitespace between two Han characters is dropped: Chinese has no spaces between words, and a
   line break inside a sentence (a man page's or a PDF's layout) would otherwise split words.
3. Han runs are cut into words by jieba's dictionary (no HMM guesses, so a phrase is cut the
   same way in a query as in the document it was copied from); other runs of letters and digits
   are words, split at punctuation (``core.autocrlf`` → ``core``, ``autocrlf``).
4. English words are stemmed (Snowball, as Lucene's English analyzer does), so a question
   about "configuring" finds "configuration"; a short stop list (Lucene's 33 English words and
   Chinese function characters) is left out, so the commonest terms cost no index space.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aibox.pipeline.types import Chunk

logger = logging.getLogger(__name__)

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_HAN_GAP = re.compile(rf"(?<=[{_HAN}])\s+(?=[{_HAN}])")
_TOKEN = re.compile(rf"(?P<han>[{_HAN}]+)|[^\W_{_HAN}]+")
_HAS_HAN = re.compile(f"[{_HAN}]")
_ASCII_WORD = re.compile(r"[a-z]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Longer tokens are identifiers or encoded blobs, never what anybody searches for.
MAX_TERM_CHARS = 40

#: Lucene's ``EnglishAnalyzer.ENGLISH_STOP_WORDS_SET``.
STOP_WORDS_EN = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their "
    "then there these they this to was will with".split()
)
#: Chinese function words jieba cuts on their own (Simplified: terms are converted first).
STOP_WORDS_ZH = frozenset("的 了 和 是 在 与 及 或 也 就 都 而 之 等 着 把 被 这 那 个 其".split())
STOP_WORDS = STOP_WORDS_EN | STOP_WORDS_ZH

_lock = threading.Lock()
_jieba: Any = None  # jieba.Tokenizer; jieba ships no type information
_stemmer: Any = None  # Stemmer.Stemmer (PyStemmer, Snowball in C)
_converters: Any = None  # (opencc.OpenCC("s2twp.json"), opencc.OpenCC("tw2sp.json"))


def load() -> None:
    """Load jieba's dictionary, the stemmer and OpenCC once per process (idempotent)."""
    global _jieba, _stemmer, _converters
    if _jieba is not None:
        return
    with _lock:
        if _jieba is not None:
            return
        import jieba
        import opencc
        import Stemmer

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _converters = (opencc.OpenCC("s2twp.json"), opencc.OpenCC("tw2sp.json"))
        _stemmer = Stemmer.Stemmer("english")
        _jieba = jieba.dt
        logger.debug("search analyzer loaded (jieba, Snowball English, OpenCC t2s)")


def analyze(text: str) -> list[str]:
    """The search terms of ``text`` in order, repeats kept (a term's count is its frequency)."""
    load()
    text = unicodedata.normalize("NFKC", text).casefold()
    if _HAS_HAN.search(text):
        text = _HAN_GAP.sub("", _one_chinese(text))
    terms: list[str] = []
    for match in _TOKEN.finditer(text):
        if match.lastgroup == "han":
            terms.extend(w for w in _jieba.cut(match.group(), HMM=False) if w not in STOP_WORDS)
            continue
        word = match.group()
        if len(word) > MAX_TERM_CHARS or word in STOP_WORDS:
            continue
        terms.append(_stemmer.stemWord(word) if _ASCII_WORD.fullmatch(word) else word)
    return terms


def term_counts(text: str) -> tuple[Counter[str], int]:
    """Each term's frequency in ``text`` and the number of terms (its BM25 length)."""
    terms = analyze(text)
    return Counter(terms), len(terms)


def _one_chinese(text: str) -> str:
    """Simplified Chinese with mainland words, whichever script and words ``text`` used."""
    to_taiwan, to_mainland = _converters
    try:
        return str(to_mainland.convert(to_taiwan.convert(text)))
    except UnicodeEncodeError:  # lone surrogates cannot reach the C++ library; no term has one
        return _one_chinese(_SURROGATE.sub(" ", text))


@dataclass(frozen=True, slots=True)
class FileTerms:
    """A file's chunks as the full-text index keeps them."""

    #: term -> ``(chunk index, frequency in that chunk)`` for every chunk holding the term.
    postings: dict[str, list[tuple[int, int]]]
    #: chunk index -> number of terms in the chunk (its BM25 length).
    lengths: dict[int, int]


def file_terms(chunks: Sequence[Chunk]) -> FileTerms:
    """Analyze every chunk of one file into postings and lengths."""
    postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
    lengths: dict[int, int] = {}
    for chunk in chunks:
        counts, length = term_counts(chunk.text)
        lengths[chunk.index] = length
        for term, count in counts.items():
            postings[term].append((chunk.index, count))
    return FileTerms(dict(postings), lengths)
