"""jieba part-of-speech tagging of Chinese text, with offsets into the original text.

Text is converted to Simplified Chinese first: jieba's dictionary is Simplified, so on raw
Traditional text most words are unknown and its HMM runs over nearly everything (~1k chars/s
here). After t2s, tagging runs at ~40k chars/s with the HMM and ~500k chars/s without it. We
tag without it: the HMM only guesses unknown words, and on names it guesses boundaries wrong
(张忠谋于 → 张忠 / 谋于, 马云曾); without it an unknown name comes out as single characters,
which the surname rule in :mod:`.ner_zh` joins (张 / 忠 / 谋 → 张忠谋).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from aibox.pipeline.graph.normalise import load_converter, original_span, to_simplified_aligned

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_pos_tokenizer: Any = None  # jieba.posseg.POSTokenizer; jieba ships no type information


@dataclass(frozen=True, slots=True)
class Token:
    """A tagged word: ``word`` is Simplified, ``start``/``end`` index the original text."""

    word: str
    flag: str
    start: int
    end: int


def load() -> None:
    """Load jieba's dictionary and the OpenCC converter once per process; later calls are cheap."""
    global _pos_tokenizer
    if _pos_tokenizer is not None:
        return
    with _lock:
        if _pos_tokenizer is not None:
            return
        import jieba

        jieba.setLogLevel(logging.WARNING)
        # jieba.posseg reads the whole dictionary's tag table when imported, so import it here.
        import jieba.posseg

        jieba.initialize()
        load_converter()
        _pos_tokenizer = jieba.posseg.dt
        logger.debug("jieba dictionary and OpenCC t2s converter loaded")


def tag(text: str) -> list[Token]:
    """Tag ``text`` (Traditional or Simplified) with jieba POS flags."""
    load()
    simplified, owners = to_simplified_aligned(text)
    tokens: list[Token] = []
    position = 0
    for pair in _pos_tokenizer.lcut(simplified, HMM=False):
        word, flag = str(pair.word), str(pair.flag)
        if not simplified.startswith(word, position):
            # jieba's tokens concatenate to its input; stay correct should that ever change.
            found = simplified.find(word, position)
            if found < 0:
                continue
            position = found
        end = position + len(word)
        if word:
            start, stop = original_span(owners, position, end)
            tokens.append(Token(word, flag, start, stop))
        position = end
    return tokens
