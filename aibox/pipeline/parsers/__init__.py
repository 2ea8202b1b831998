"""Parsers turn a file's bytes into a :class:`Document`; one module per format.

To support a new format, write ``parsers/<format>.py`` with a ``parse_<format>(data, file_type)``
function and add one :class:`Format` line to ``FORMATS`` (and its magic bytes to ``sniff.py``
when it is a binary format).
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from dataclasses import dataclass

from aibox.errors import UnsupportedFileTypeError
from aibox.pipeline.parsers.csv import parse_csv
from aibox.pipeline.parsers.docx import parse_docx
from aibox.pipeline.parsers.html import parse_html
from aibox.pipeline.parsers.json import parse_json
from aibox.pipeline.parsers.markdown import parse_markdown
from aibox.pipeline.parsers.pdf import parse_pdf
from aibox.pipeline.parsers.sniff import detect_format
from aibox.pipeline.parsers.text import parse_text
from aibox.pipeline.types import Document

__all__ = [
    "FORMATS",
    "SUPPORTED_TYPES",
    "Format",
    "Parser",
    "file_type_for",
    "parse_bytes",
    "parse_file",
]

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
    Format("md", parse_markdown, (".md", ".markdown"), ("text/markdown", "text/x-markdown")),
    Format("html", parse_html, (".html", ".htm", ".xhtml"), ("text/html", "application/xhtml+xml")),
    Format("csv", parse_csv, (".csv",), ("text/csv",)),
    Format("json", parse_json, (".json",), ("application/json",)),
    Format("pdf", parse_pdf, (".pdf",), ("application/pdf",)),
    Format(
        "docx",
        parse_docx,
        (".docx",),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
    ),
)

SUPPORTED_TYPES: frozenset[str] = frozenset(f.name for f in FORMATS)

_BY_NAME = {f.name: f for f in FORMATS}
_BY_EXTENSION = {ext: f.name for f in FORMATS for ext in f.extensions}
_BY_MIME_TYPE = {mime: f.name for f in FORMATS for mime in f.mime_types}


#: MIME types that say nothing about the format: the content decides (sniffed when parsed).
_GENERIC_MIME_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def file_type_for(filename: str, content_type: str | None = None) -> str:
    """Return the canonical type of an upload from its extension, else its MIME type.

    A name without an extension and a generic MIME type is taken as text ("txt"): parsing
    sniffs the bytes, so a PDF or DOCX sent that way is still read as one, and anything else
    that is not text fails its job with a clear message.
    """
    # Browsers may send a full Windows path; only the last component matters.
    suffix = pathlib.PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if suffix in _BY_EXTENSION:
        return _BY_EXTENSION[suffix]
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime in _BY_MIME_TYPE:
        return _BY_MIME_TYPE[mime]
    if suffix:
        raise UnsupportedFileTypeError(f"unsupported file type: {suffix}")
    if mime not in _GENERIC_MIME_TYPES:
        raise UnsupportedFileTypeError(f"unsupported file type: {mime} (file has no extension)")
    return "txt"


def parse_bytes(data: bytes, file_type: str) -> Document:
    """Parse ``data`` uploaded as ``file_type``; its content decides the format where it can."""
    if file_type not in _BY_NAME:
        raise UnsupportedFileTypeError(f"unsupported file type: {file_type}")
    actual = detect_format(data, file_type)
    return _BY_NAME[actual].parse(data, actual)


def parse_file(path: pathlib.Path, file_type: str) -> Document:
    """Read the file at ``path`` and parse it, ``file_type`` (from its name) being the hint."""
    return parse_bytes(path.read_bytes(), file_type)
