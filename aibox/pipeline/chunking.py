"""Split a document's text into overlapping, sentence-aligned chunks within a size budget.

Sentences (from :func:`split_sentences`) are packed greedily into chunks of at most
``size_chars`` characters. Each chunk after the first repeats the longest run of whole trailing
sentences of the previous chunk that fits in ``overlap_chars`` (and leaves room for at least
one new sentence), but never the whole previous chunk, so every chunk moves forward. A sentence
longer than the budget is cut into pieces, preferably after whitespace or a clause mark; those
pieces are packed like sentences. Offsets always index the original text.

Headings (``Document.headings``) are kept with their text: each heading is one piece, a chunk
never ends with one (it moves to the next chunk, or the sentence after it is cut to fit; only
headings that follow each other and overflow the budget together are left alone), a chunk at
least half full ends before a heading, and a chunk starting at a heading carries no overlap
from the section before.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from aibox.pipeline.sentences import split_sentences
from aibox.pipeline.types import Chunk, Document

# Where an oversized sentence may be cut: after whitespace or a clause-level mark.
_SOFT_BREAKS = (" ", "\n", "\t", "\u3000", "，", "、", "；", "：", ",", ";", ":", "）", ")")


@dataclass(slots=True)
class _Piece:
    start: int
    end: int
    heading: bool = False


def chunk_text(text: str, *, size_chars: int, overlap_chars: int) -> list[Chunk]:
    """Split ``text`` into chunks of at most ``size_chars`` chars, ``text[start:end]`` each."""
    document = Document(text=text, file_type="txt")
    return chunk_document(document, size_chars=size_chars, overlap_chars=overlap_chars)


def chunk_document(document: Document, *, size_chars: int, overlap_chars: int) -> list[Chunk]:
    """Split ``document`` into chunks that keep headings with their text and know their page."""
    if size_chars <= 0:
        raise ValueError(f"size_chars must be positive, got {size_chars}")
    if not 0 <= overlap_chars < size_chars:
        raise ValueError(
            f"overlap_chars must be in [0, size_chars), got {overlap_chars} "
            f"with size_chars={size_chars}"
        )
    text = document.text
    pieces = _pieces(text, document.headings, size_chars)
    page_starts = [offset for offset, _ in document.pages]
    chunks: list[Chunk] = []
    first = 0  # index of the first piece of the current chunk
    while first < len(pieces):
        last = _last_piece(text, pieces, first, size_chars)
        start, end = pieces[first].start, pieces[last].end
        page = _page_at(document.pages, page_starts, start)
        chunks.append(Chunk(len(chunks), text[start:end], start, end, page))
        first = _next_first(pieces, first, last, size_chars, overlap_chars)
    return chunks


def _last_piece(text: str, pieces: list[_Piece], first: int, size_chars: int) -> int:
    """Index of the last piece of the chunk starting at ``pieces[first]``."""
    start = pieces[first].start
    last = first
    while last + 1 < len(pieces):
        following = pieces[last + 1]
        if following.end - start > size_chars:
            break
        half_full = 2 * (pieces[last].end - start) >= size_chars
        if following.heading and half_full and not pieces[last].heading:
            break
        last += 1
    if not pieces[last].heading:
        return last
    # The chunk ends with a heading: leave it (and any headings just before it) to the next
    # chunk, or, when the chunk holds nothing else, cut the sentence after it to fit.
    kept = last
    while kept > first and pieces[kept].heading:
        kept -= 1
    if not pieces[kept].heading:
        return kept
    if last + 1 < len(pieces) and not pieces[last + 1].heading:
        room_end = start + size_chars
        cut = _cut(text, pieces[last + 1].start, room_end)
        if cut is not None:
            after = pieces[last + 1]
            pieces[last + 1 : last + 2] = [
                _Piece(after.start, cut[0]),
                _Piece(cut[1], after.end),
            ]
            return last + 1
    return last  # a heading that fills the budget by itself


def _next_first(
    pieces: list[_Piece], first: int, last: int, size_chars: int, overlap_chars: int
) -> int:
    """Index of the piece that starts the chunk after ``pieces[first..last]``."""
    following = last + 1
    if following >= len(pieces) or pieces[following].heading:
        return following
    following_end = pieces[following].end
    candidate = following
    # Walk back over whole trailing pieces while they fit the overlap and leave room for the
    # next piece. Greedy packing already means the whole previous chunk never leaves that room;
    # ``> first`` states it outright, so progress does not hinge on that reasoning.
    while candidate - 1 > first:
        start = pieces[candidate - 1].start
        if pieces[last].end - start > overlap_chars or following_end - start > size_chars:
            break
        candidate -= 1
    return candidate


def _page_at(pages: tuple[tuple[int, int], ...], page_starts: list[int], offset: int) -> int | None:
    """The number of the page ``offset`` falls on, None for unpaged documents."""
    if not pages:
        return None
    index = bisect.bisect_right(page_starts, offset) - 1
    return pages[max(index, 0)][1]


def _pieces(text: str, headings: tuple[tuple[int, int], ...], size_chars: int) -> list[_Piece]:
    """Headings and the sentences between them, with pieces longer than ``size_chars`` cut."""
    pieces: list[_Piece] = []
    position = 0
    for raw_start, raw_end in headings:
        start, end = _trimmed(text, max(raw_start, position), min(raw_end, len(text)))
        if start >= end:
            continue  # empty, out of range or overlapping the previous heading
        _add_sentences(text, position, start, size_chars, pieces)
        if end - start <= size_chars:
            pieces.append(_Piece(start, end, heading=True))
        else:
            _hard_split(text, start, end, size_chars, pieces)
        position = end
    _add_sentences(text, position, len(text), size_chars, pieces)
    return pieces


def _add_sentences(text: str, start: int, end: int, size_chars: int, pieces: list[_Piece]) -> None:
    """Append the sentences of ``text[start:end]``, cut to fit ``size_chars``."""
    region = text if (start, end) == (0, len(text)) else text[start:end]
    for sentence_start, sentence_end in split_sentences(region):
        s, e = start + sentence_start, start + sentence_end
        if e - s <= size_chars:
            pieces.append(_Piece(s, e))
        else:
            _hard_split(text, s, e, size_chars, pieces)


def _hard_split(text: str, start: int, end: int, size_chars: int, pieces: list[_Piece]) -> None:
    """Append pieces of ``text[start:end]``, each at most ``size_chars`` and whitespace-trimmed."""
    while start < end:
        if end - start <= size_chars:
            pieces.append(_Piece(start, end))
            return
        cut = _cut(text, start, start + size_chars)
        assert cut is not None  # a budget of one character or more always allows a cut
        pieces.append(_Piece(start, cut[0]))
        start = cut[1]


def _cut(text: str, start: int, limit: int) -> tuple[int, int] | None:
    """Where to cut ``text[start:]`` to end by ``limit``: (piece end, next piece start).

    Prefers a break in the second half of ``text[start:limit]``, so pieces are never tiny; None
    when not even one non-space character fits.
    """
    if limit <= start:
        return None
    floor = start + (limit - start) // 2
    cut = max(text.rfind(mark, floor, limit) for mark in _SOFT_BREAKS) + 1
    if cut <= floor:
        cut = limit
    piece_end = cut
    while piece_end > start and text[piece_end - 1].isspace():
        piece_end -= 1
    if piece_end == start:
        return None
    following = cut
    while following < len(text) and text[following].isspace():
        following += 1
    return piece_end, following


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
