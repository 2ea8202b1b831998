"""Locating the names a model gives in a chunk's text: exactly, else as normalise_key would fold."""

from __future__ import annotations

import unicodedata

from aibox.pipeline.graph.normalise import normalise_key, to_simplified_aligned

Span = tuple[int, int]
# Characters from here on (CJK and beyond) are written without spaces: no word boundary applies.
_SPACELESS_FROM = 0x2E80


class ChunkText:
    """A chunk's text with a folded copy (NFKC, case-folded, spaces collapsed, t2s) to search."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._folded: tuple[str, list[int]] | None = None

    def find(self, name: str) -> list[Span]:
        """Spans of ``name`` in the text: exact occurrences, else folded ones; whole words only."""
        name = name.strip()
        if not name:
            return []
        exact = [span for span in _occurrences(self.text, name) if self._bounded(span)]
        if exact:
            return exact
        folded, owners = self._fold()
        spans = []
        for start, end in _occurrences(folded, normalise_key(name)):
            span = owners[start], owners[end - 1] + 1
            if self._bounded(span):
                spans.append(span)
        return spans

    def _fold(self) -> tuple[str, list[int]]:
        """The folded text and, for each of its characters, the index it came from."""
        if self._folded is None:
            parts: list[str] = []
            owners: list[int] = []
            for index, char in enumerate(self.text):
                if char.isspace():
                    if parts and parts[-1] == " ":
                        continue
                    piece = " "
                else:
                    piece = unicodedata.normalize("NFKC", char).casefold()
                parts.append(piece)
                owners.extend([index] * len(piece))
            simplified, aligned = to_simplified_aligned("".join(parts))
            if aligned is not None:
                owners = [owners[i] for i in aligned]
            self._folded = simplified, owners
        return self._folded

    def _bounded(self, span: Span) -> bool:
        start, end = span
        return not (_joins(self.text, start - 1) or _joins(self.text, end - 1))


def _occurrences(haystack: str, needle: str) -> list[Span]:
    """Non-overlapping occurrences, left to right."""
    spans = []
    start = haystack.find(needle)
    while needle and start >= 0:
        spans.append((start, start + len(needle)))
        start = haystack.find(needle, start + len(needle))
    return spans


def _joins(text: str, left: int) -> bool:
    """True when ``text[left]`` and ``text[left + 1]`` belong to one spaced-script word."""
    if left < 0 or left + 1 >= len(text):
        return False
    return _wordy(text[left]) and _wordy(text[left + 1])


def _wordy(char: str) -> bool:
    return char.isalnum() and ord(char) < _SPACELESS_FROM
