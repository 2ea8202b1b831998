"""Parsers turn a file's bytes into a :class:`Document`; one module per format.

To support a new format, write ``parsers/<format>.py`` with a ``parse_<format>(data, file_type)``
function and add one :class:`Format` line to ``FORMATS``.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from dataclasses import dataclass

from aibox.errors import UnsupportedFileTypeError
from aibox.pipeline.parsers.text import parse_text
from aibox.pipeline.types import Document

__all__ = ["FORMATS", "SUPPORTED_TYPES", "Format", "Parser", "file_type_for", "parse_file"]

Parser = Callable[[bytes, str], Document]


@dataclass(frozen=True, slots=True)
class Format:
    """A supported file format: its canonical name, parser, extensions and MIME types."""

    name: str
    parse: Parser
    extensions: tuple[str, ...]  # lower case, with the dot
    mime_types: tuple[str, ...] = ()


FORMATS: tuple[Format, ...] = (
    Format("txt", parse_text, (".txt", ".text"), ("text/plain",)),
    Format("md", parse_text, (".md", ".markdown"), ("text/markdown", "text/x-markdown")),
)

SUPPORTED_TYPES: frozenset[str] = frozenset(f.name for f in FORMATS)

_BY_NAME = {f.name: f for f in FORMATS}
_BY_EXTENSION = {ext: f.name for f in FORMATS for ext in f.extensions}
_BY_MIME_TYPE = {mime: f.name for f in FORMATS for mime in f.mime_types}


def file_type_for(filename: str, content_type: str | None = None) -> str:
    """Return the canonical type of an upload from its extension, else its MIME type."""
    # Browsers may send a full Windows path; only the last component matters.
    suffix = pathlib.PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if suffix in _BY_EXTENSION:
        return _BY_EXTENSION[suffix]
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime in _BY_MIME_TYPE:
        return _BY_MIME_TYPE[mime]
    if suffix:
        raise UnsupportedFileTypeError(f"unsupported file type: {suffix}")
    if mime:
        raise UnsupportedFileTypeError(f"unsupported file type: {mime} (file has no extension)")
    raise UnsupportedFileTypeError("unsupported file type: file has no extension")


def parse_file(path: pathlib.Path, file_type: str) -> Document:
    """Read the file at ``path`` and parse it as ``file_type`` (a name in SUPPORTED_TYPES)."""
    fmt = _BY_NAME.get(file_type)
    if fmt is None:
        raise UnsupportedFileTypeError(f"unsupported file type: {file_type}")
    return fmt.parse(path.read_bytes(), file_type)
