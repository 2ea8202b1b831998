"""Parser for PDF (pypdf): the text layer page by page, with where each page starts."""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections.abc import Iterator

from pypdf import PdfReader
from pypdf.errors import (
    DependencyError,
    FileNotDecryptedError,
    LimitReachedError,
    PdfReadError,
    PdfStreamError,
    PyPdfError,
)

from aibox.errors import AiboxError, EmptyDocumentError, UnreadableFileError
from aibox.pipeline.types import Document

logger = logging.getLogger(__name__)

MAX_PAGES = 5000

ENCRYPTED_MESSAGE = "PDF is encrypted (password-protected); remove the password and upload again"
NO_TEXT_MESSAGE = (
    "PDF has no text layer (it is probably scanned images); OCR is not supported, "
    "so export or scan it with text recognition first"
)

# C0 controls other than tab and newline come out of broken font encodings, never from text.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Fonts such as Noto Sans CJK map one glyph to both a Kangxi radical (U+2F00..U+2FD5) and the
# unified ideograph, and PDF printers often record the radical: "使⽤" for "使用". NFKC maps each
# radical to its ideograph; radicals are never meant in running text.
_KANGXI_TO_UNIFIED = {
    code: unicodedata.normalize("NFKC", chr(code)) for code in range(0x2F00, 0x2FD6)
}


def parse_pdf(data: bytes, file_type: str) -> Document:
    """Extract the text layer of the PDF in ``data``; pages are joined by blank lines."""
    try:
        return _parse(data, file_type)
    except AiboxError:
        raise
    except FileNotDecryptedError:
        raise UnreadableFileError(ENCRYPTED_MESSAGE) from None
    except DependencyError:
        # pypdf needs the optional "cryptography" package for AES.
        raise UnreadableFileError(
            "PDF is encrypted with AES, which this server cannot decrypt; "
            "remove the encryption and upload again"
        ) from None
    except LimitReachedError as exc:
        raise UnreadableFileError(
            f"PDF expands beyond the safety limits when decompressed: {_reason(exc)}"
        ) from None
    except RecursionError:
        raise UnreadableFileError(
            "PDF is damaged or truncated: its objects are nested too deeply"
        ) from None
    except Exception as exc:  # pypdf raises many kinds on corrupt input
        logger.info("unreadable PDF: %r", exc)
        raise UnreadableFileError(f"PDF is damaged or truncated: {_reason(exc)}") from None


def _parse(data: bytes, file_type: str) -> Document:
    reader = _open(data)
    page_count = len(reader.pages)
    if page_count == 0:
        raise UnreadableFileError("PDF is damaged or truncated: it has no pages")
    if page_count > MAX_PAGES:
        raise UnreadableFileError(
            f"PDF has {page_count} pages (limit {MAX_PAGES}); split it and upload the parts"
        )
    parts: list[str] = []
    pages: list[tuple[int, int]] = []
    offset = 0
    for number, text in _page_texts(reader):
        if parts:
            parts.append("\n\n")
            offset += 2
        pages.append((offset, number))
        parts.append(text)
        offset += len(text)
    if not parts:
        raise EmptyDocumentError(NO_TEXT_MESSAGE)
    metadata = {"page_count": str(page_count)}
    title = _title(reader)
    if title:
        metadata["title"] = title
    return Document(text="".join(parts), file_type=file_type, metadata=metadata, pages=tuple(pages))


def _open(data: bytes) -> PdfReader:
    """Open the PDF, decrypting with the empty user password ("owner password only" PDFs)."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableFileError(ENCRYPTED_MESSAGE)
    except NotImplementedError as exc:  # pypdf's word for a security handler it lacks
        raise UnreadableFileError(
            f"PDF is encrypted with a method aibox cannot open ({_first_line(exc)}); "
            "remove the encryption and upload again"
        ) from None
    return reader


def _page_texts(reader: PdfReader) -> Iterator[tuple[int, str]]:
    """``(page number, text)`` for each page with text; a page pypdf cannot read is skipped.

    One broken page should not cost the rest of a long document; when every page fails, the
    first failure propagates and the PDF is reported as damaged.
    """
    first_failure: Exception | None = None
    read_any = False
    for number, page in enumerate(reader.pages, start=1):
        try:
            text = clean_page_text(page.extract_text())
        except (FileNotDecryptedError, DependencyError, LimitReachedError, RecursionError):
            raise
        except Exception as exc:  # pypdf raises many kinds on corrupt content streams
            logger.warning("skipping unreadable PDF page %d: %r", number, exc)
            first_failure = first_failure or exc
            continue
        read_any = True
        if text:
            yield number, text
    if not read_any and first_failure is not None:
        raise first_failure


def clean_page_text(text: str) -> str:
    """Normalise one page's extracted text: newlines, stray controls, Kangxi radicals, edges."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROLS.sub("", text).translate(_KANGXI_TO_UNIFIED)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def _title(reader: PdfReader) -> str:
    """The document title from its metadata, or "" when absent or unreadable."""
    try:
        info = reader.metadata
        title = info.title if info is not None else None
    except (PdfReadError, ValueError, TypeError, KeyError):
        return ""
    return " ".join(str(title).split()) if title else ""


def _reason(exc: Exception) -> str:
    """A short, single-line reason from a pypdf exception."""
    if isinstance(exc, PdfStreamError):
        return "the file ends unexpectedly (it may have been cut off in transfer)"
    if not isinstance(exc, PyPdfError):
        # KeyError('/Root') and the like say nothing to a user.
        return f"its structure could not be read ({type(exc).__name__})"
    return _first_line(exc)


def _first_line(exc: Exception) -> str:
    """The first line of an exception's message, at most 120 characters."""
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return first_line if len(first_line) <= 120 else first_line[:117] + "..."
