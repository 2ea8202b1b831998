"""Split a document's text into overlapping, sentence-aligned chunks within a size budget.

Sentences (from :func:`split_sentences`) are packed greedily into chunks of at most
``size_chars`` characters. Each chunk after the first repeats the longest run of whole trailing
sentences of the previous chunk that fits in ``overlap_chars`` (and leaves room for at least
one new sentence), but never the whole previous chunk, so every chunk moves forward. A sentence
longer than the budget is cut into pieces, preferably after whitespace or a clause mark; those
pieces are packed like sentences. Offsets always index the original text.
"""

from __future__ import annotations

from aibox.pipeline.sentences import split_sentences
from aibox.pipeline.types import Chunk

# Where an oversized sentence may be cut: after whitespace or a clause-level mark.
_SOFT_BREAKS = (" ", "\n", "\t", "\u3000", "，", "、", "；", "：", ",", ";", ":", "）", ")")


def chunk_text(text: str, *, size_chars: int, overlap_chars: int) -> list[Chunk]:
    """Split ``text`` into chunks of at most ``size_chars`` chars, ``text[start:end]`` each."""
    if size_chars <= 0:
        raise ValueError(f"size_chars must be positive, got {size_chars}")
    if not 0 <= overlap_chars < size_chars:
        raise ValueError(
            f"overlap_chars must be in [0, size_chars), got {overlap_chars} "
            f"with size_chars={size_chars}"
        )
    pieces = _pieces(text, size_chars)
    chunks: list[Chunk] = []
    first = 0  # index of the first piece of the current chunk
    while first < len(pieces):
        last = first
        start = pieces[first][0]
        while last + 1 < len(pieces) and pieces[last + 1][1] - start <= size_chars:
            last += 1
        end = pieces[last][1]
        chunks.append(Chunk(index=len(chunks), text=text[start:end], start=start, end=end))
        first = _next_first(pieces, first, last, size_chars, overlap_chars)
    return chunks


def _next_first(
    pieces: list[tuple[int, int]], first: int, last: int, size_chars: int, overlap_chars: int
) -> int:
    """Index of the piece that starts the chunk after ``pieces[first..last]``."""
    following = last + 1
    if following >= len(pieces):
        return following
    following_end = pieces[following][1]
    candidate = following
    # Walk back over whole trailing pieces while they fit the overlap and leave room for the
    # next piece. Greedy packing already means the whole previous chunk never leaves that room;
    # ``> first`` states it outright, so progress does not hinge on that reasoning.
    while candidate - 1 > first:
        start = pieces[candidate - 1][0]
        if pieces[last][1] - start > overlap_chars or following_end - start > size_chars:
            break
        candidate -= 1
    return candidate


def _pieces(text: str, size_chars: int) -> list[tuple[int, int]]:
    """Sentence spans of ``text``, with sentences longer than ``size_chars`` cut to fit."""
    pieces: list[tuple[int, int]] = []
    for start, end in split_sentences(text):
        if end - start <= size_chars:
            pieces.append((start, end))
        else:
            _hard_split(text, start, end, size_chars, pieces)
    return pieces


def _hard_split(
    text: str, start: int, end: int, size_chars: int, pieces: list[tuple[int, int]]
) -> None:
    """Append pieces of ``text[start:end]``, each at most ``size_chars`` and whitespace-trimmed."""
    while start < end:
        limit = start + size_chars
        if end <= limit:
            pieces.append((start, end))
            return
        # Look for a break in the second half of the budget only, so pieces are never tiny.
        floor = start + size_chars // 2
        cut = max(text.rfind(mark, floor, limit) for mark in _SOFT_BREAKS) + 1
        if cut <= floor:
            cut = limit
        piece_end = cut
        while text[piece_end - 1].isspace():
            piece_end -= 1
        pieces.append((start, piece_end))
        start = cut
        while start < end and text[start].isspace():
            start += 1
