"""Sentence boundaries for English and Chinese text.

Boundaries are spans into the original string, so callers can keep character offsets. A
sentence ends at a CJK terminator (。！？；…), at an ASCII terminator followed by whitespace or a
CJK character (not after a known abbreviation or a single capital initial), or at a blank
line. Closing quotes and brackets stay with the sentence they close.
"""

from __future__ import annotations

import re

_CJK_END = "。！？；…"
_CLOSERS = "\"'”’」』）)】》〉"
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "inc",
        "ltd",
        "co",
        "corp",
        "no",
        "fig",
        "al",
        "approx",
        "dept",
        "est",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "u.s",
        "u.k",
    ]
)

# A CJK terminator run, or an ASCII terminator run followed by whitespace, or a paragraph break;
# each may be followed by closing quotes/brackets. An ASCII run is only tried from its first
# character (the lookbehind) and never backtracked into (possessive), so a run of a million
# dots is linear. Each alternative starts with the character it needs, which lets the regex
# engine skip the others cheaply.
_BOUNDARY = re.compile(
    rf"(?:[{_CJK_END}][{_CJK_END}]*[{re.escape(_CLOSERS)}]*)"
    rf"|(?:[.!?](?<![.!?]{{2}})[.!?]*+[{re.escape(_CLOSERS)}]*+(?=\s|[\u3400-\u9fff]))"
    r"|(?:\n[ \t]*\n)"
)


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the '.' at ``dot`` ends an abbreviation or an initial, not a sentence."""
    start = dot
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    word = text[start:dot].lower()
    if not word:
        return False
    if word in _ABBREVIATIONS:
        return True
    return len(word) == 1 and text[dot - 1].isupper()


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into sentence spans ``(start, end)``, whitespace trimmed, none empty."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        # Only a lone "." can end an abbreviation: "U.S.?" and "Dr...." end a sentence.
        if match.group().rstrip(_CLOSERS) == "." and _is_abbreviation(text, match.start()):
            continue
        _append_trimmed(text, start, end, spans)
        start = end
    _append_trimmed(text, start, len(text), spans)
    return spans


def _append_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    segment = text[start:end]
    sentence = segment.strip()  # str.strip() removes exactly the characters str.isspace() finds
    if sentence:
        start += len(segment) - len(segment.lstrip())
        spans.append((start, start + len(sentence)))
