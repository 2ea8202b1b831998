"""Entity identity keys and Traditional → Simplified Chinese conversion with offset alignment."""

from __future__ import annotations

import re
import threading
import unicodedata

import opencc

_WHITESPACE = re.compile(r"\s+")
_lock = threading.Lock()
_converter: opencc.OpenCC | None = None


def load_converter() -> opencc.OpenCC:
    """Return the process-wide OpenCC t2s converter, creating it on first use."""
    global _converter
    if _converter is None:
        with _lock:
            if _converter is None:
                _converter = opencc.OpenCC("t2s.json")
    return _converter


def to_simplified(text: str) -> str:
    """Convert Traditional Chinese characters in ``text`` to Simplified; other text is unchanged."""
    try:
        return str(load_converter().convert(text))
    except UnicodeEncodeError:  # lone surrogates cannot reach the C++ library
        return "".join(_convert_char(char) for char in text)


def to_simplified_aligned(text: str) -> tuple[str, list[int] | None]:
    """Convert ``text`` to Simplified and map each output character to its source index.

    The map is ``None`` when the conversion kept every character in place (the bundled t2s
    dictionaries only hold same-length entries, so this is the usual case). Otherwise the text
    is converted character by character, which cannot misalign, and the map is returned.
    """
    simplified = to_simplified(text)
    if len(simplified) == len(text):
        return simplified, None
    parts: list[str] = []
    owners: list[int] = []
    for index, char in enumerate(text):
        converted = _convert_char(char)
        parts.append(converted)
        owners.extend([index] * len(converted))
    return "".join(parts), owners


def original_span(owners: list[int] | None, start: int, end: int) -> tuple[int, int]:
    """Map a span of aligned Simplified text back to the span of the source text."""
    if owners is None:
        return start, end
    return owners[start], owners[end - 1] + 1


def normalise_key(name: str) -> str:
    """Return the identity key of an entity name: NFKC, case-folded, spaces collapsed, t2s."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return to_simplified(_WHITESPACE.sub(" ", folded).strip())


def _convert_char(char: str) -> str:
    try:
        return str(load_converter().convert(char))
    except UnicodeEncodeError:
        return char
