"""Parser for Markdown: the text as is, with its ATX (``# Title``) and setext headings found."""

from __future__ import annotations

import re
from dataclasses import replace

from aibox.pipeline.parsers.text import parse_text
from aibox.pipeline.types import Document

_ATX = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)")
_SETEXT_UNDERLINE = re.compile(r" {0,3}(?:=+|-+)[ \t]*$")
_FENCE = re.compile(r" {0,3}(```|~~~)")
# Lines that cannot be the text of a setext heading: the underline would belong to them.
_NOT_SETEXT_TEXT = re.compile(r" {0,3}(?:[-*+>|]|\d+[.)]|#)|    |\t")


def parse_markdown(data: bytes, file_type: str) -> Document:
    """Decode ``data`` as Markdown and record its headings."""
    document = parse_text(data, file_type)
    return replace(document, headings=markdown_headings(document.text))


def markdown_headings(text: str) -> tuple[tuple[int, int], ...]:
    """``(start, end)`` spans of the headings in ``text``, outside fenced code blocks."""
    headings: list[tuple[int, int]] = []
    fence: str | None = None
    previous: tuple[int, int] | None = None  # span of the previous line if it may be a title
    offset = 0
    for number, line in enumerate(text.split("\n")):
        start, end = offset, offset + len(line)
        offset = end + 1
        if number == 0 and line.rstrip() == "---":
            fence = "---"  # YAML front matter: its closing "---" is no setext underline
            continue
        fence_match = _FENCE.match(line)
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
            continue
        if fence_match:
            fence, previous = fence_match.group(1), None
            continue
        if _ATX.match(line):
            headings.append(_trimmed(text, start, end))
            previous = None
        elif previous is not None and _SETEXT_UNDERLINE.match(line):
            headings.append(_trimmed(text, previous[0], end))
            previous = None
        elif line.strip() and not _NOT_SETEXT_TEXT.match(line):
            # Only the last line of a paragraph can carry the underline; one-line titles are
            # the common case and a multi-line one is still found by its last line.
            previous = (start, end)
        else:
            previous = None
    return tuple(headings)


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
