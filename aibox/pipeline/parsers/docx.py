"""Parser for Word documents (python-docx): body paragraphs and tables in order, headings kept.

The zip container is checked before python-docx opens it: a DOCX is a zip archive whose parts
python-docx reads whole into memory, so a small upload could otherwise expand to gigabytes.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Iterator

import docx
from docx.oxml.ns import qn
from lxml import etree

from aibox.errors import (
    AiboxError,
    EmptyDocumentError,
    UnreadableFileError,
    UnsupportedFileTypeError,
)
from aibox.pipeline.types import Document

logger = logging.getLogger(__name__)

MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
MAX_ENTRIES = 10_000
# Small parts may compress far better than any ratio limit without doing harm.
_RATIO_FLOOR_BYTES = 1024 * 1024
_MAIN_PART = "word/document.xml"
_OTHER_PACKAGES = (
    ("xl/workbook.xml", "an Excel workbook"),
    ("ppt/presentation.xml", "a PowerPoint presentation"),
    ("content.xml", "an OpenDocument file"),
)
_HEADING_STYLE = re.compile(r"(?:heading \d|title)", re.IGNORECASE)
_W_P, _W_TBL, _W_TR, _W_TC, _W_SDT = (qn(t) for t in ("w:p", "w:tbl", "w:tr", "w:tc", "w:sdt"))
_W_SDT_CONTENT, _W_PSTYLE, _W_VAL = qn("w:sdtContent"), qn("w:pStyle"), qn("w:val")


def parse_docx(data: bytes, file_type: str) -> Document:
    """Extract the body text of the Word document in ``data``."""
    check_archive(data)
    try:
        document = docx.Document(io.BytesIO(data))
        styles = {style.style_id: style.name or "" for style in document.styles}
        blocks = list(_blocks(document.element.body, styles))
    except AiboxError:
        raise
    except Exception as exc:  # python-docx and lxml raise many kinds on corrupt input
        raise UnreadableFileError(f"DOCX is not valid: {_describe(exc)}") from None
    parts: list[str] = []
    headings: list[tuple[int, int]] = []
    offset = 0
    for text, is_heading in blocks:
        if parts:
            parts.append("\n\n")
            offset += 2
        if is_heading:
            headings.append((offset, offset + len(text)))
        parts.append(text)
        offset += len(text)
    if not parts:
        raise EmptyDocumentError("DOCX contains no text")
    return Document(text="".join(parts), file_type=file_type, headings=tuple(headings))


def check_archive(data: bytes) -> None:
    """Raise unless ``data`` is a sound zip holding a Word document within the size limits."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            names = {entry.filename for entry in entries}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise UnreadableFileError(
            f"DOCX is not valid: not a readable zip archive ({_reason(exc)})"
        ) from None
    if _MAIN_PART not in names:
        kind = next((kind for part, kind in _OTHER_PACKAGES if part in names), None)
        detail = f"{kind}, not a Word document" if kind else "not a Word document"
        raise UnsupportedFileTypeError(f"unsupported file type: zip archive ({detail})")
    if len(entries) > MAX_ENTRIES:
        raise UnreadableFileError(
            f"DOCX holds {len(entries)} files (limit {MAX_ENTRIES}); refusing a possible zip bomb"
        )
    total = sum(entry.file_size for entry in entries)
    if total > MAX_UNZIPPED_BYTES:
        raise UnreadableFileError(
            f"DOCX expands to {total // 2**20} MB when unzipped "
            f"(limit {MAX_UNZIPPED_BYTES // 2**20} MB); refusing a possible zip bomb"
        )
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > _RATIO_FLOOR_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise UnreadableFileError(
                f"DOCX part {entry.filename} is compressed {ratio:.0f}:1 "
                f"(limit {MAX_COMPRESSION_RATIO}:1); refusing a possible zip bomb"
            )


def _blocks(body: etree._Element, styles: dict[str, str]) -> Iterator[tuple[str, bool]]:
    """``(text, is_heading)`` for each non-empty paragraph and table row group, in body order."""
    pending = list(reversed(body))
    while pending:
        element = pending.pop()
        if element.tag == _W_P:
            text = _paragraph_text(element).strip()
            if text:
                yield text, _is_heading(element, styles)
        elif element.tag == _W_TBL:
            rows = [_row_text(row) for row in element.iterchildren(_W_TR)]
            table = "\n".join(row for row in rows if row)
            if table:
                yield table, False
        elif element.tag == _W_SDT:
            # Content controls (cover pages, tables of contents) wrap ordinary body content.
            for content in element.iterchildren(_W_SDT_CONTENT):
                pending.extend(reversed(content))


def _row_text(row: etree._Element) -> str:
    """The texts of a table row's non-empty cells separated by " | " ("" for an empty row)."""
    cells = (
        " ".join(t for p in cell.iter(_W_P) if (t := _paragraph_text(p).strip()))
        for cell in row.iterchildren(_W_TC)
    )
    return " | ".join(cell for cell in cells if cell)


def _paragraph_text(paragraph: etree._Element) -> str:
    """The text of a w:p element: runs, hyperlinks, tabs and breaks as python-docx reads them."""
    return str(paragraph.text or "")


def _is_heading(paragraph: etree._Element, styles: dict[str, str]) -> bool:
    """True when the paragraph's style is a "Heading N" or "Title" style."""
    style = paragraph.find(f"{qn('w:pPr')}/{_W_PSTYLE}")
    if style is None:
        return False
    return bool(_HEADING_STYLE.fullmatch(styles.get(style.get(_W_VAL) or "", "")))


def _describe(exc: Exception) -> str:
    """What is wrong with a zip that python-docx could not read, in a user's words."""
    if isinstance(exc, etree.XMLSyntaxError):
        if "amplification" in str(exc):  # libxml2 stopped an entity expansion bomb
            return "its XML defines entities that expand beyond the safety limit (an entity bomb)"
        return f"its XML is malformed ({_reason(exc)})"
    if isinstance(exc, zipfile.BadZipFile):  # e.g. a part whose size or checksum lies
        return f"its zip archive is corrupt ({_reason(exc)})"
    if isinstance(exc, KeyError) and exc.args and isinstance(exc.args[0], str):
        return f"a part it needs is missing ({_reason(ValueError(exc.args[0]))})"
    # AttributeError, TypeError and the like from python-docx mean a part it needs has the
    # wrong shape; their text is about python-docx, not about the file.
    logger.info("DOCX rejected by python-docx: %r", exc)
    return "its Word parts are missing or malformed"


def _reason(exc: BaseException) -> str:
    """A short, single-line reason from a library exception."""
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return first_line if len(first_line) <= 120 else first_line[:117] + "..."
