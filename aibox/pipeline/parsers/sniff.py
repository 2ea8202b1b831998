"""Decide a file's real format from its content, with the declared type (its extension) as a hint.

Binary formats are recognised by their magic bytes, whatever the file is called: a PDF named
``.txt`` is parsed as a PDF, a PNG named ``.pdf`` is refused as an image. Text has no reliable
signature, so for text the declared type chooses among the text formats.
"""

from __future__ import annotations

import codecs
import re
from typing import NamedTuple

from aibox.errors import EmptyDocumentError, UnreadableFileError, UnsupportedFileTypeError
from aibox.pipeline.encoding import decode_bytes

TEXT_TYPES = frozenset({"txt", "md", "html", "csv", "json"})


class Magic(NamedTuple):
    """A binary format recognised from fixed bytes at fixed offsets."""

    kind: str  # the format name for supported kinds ("pdf", "docx"), else "unsupported"
    description: str  # human wording, e.g. "PNG image"
    signature: tuple[tuple[int, bytes], ...]  # (offset, bytes) pairs that must all match
    # Short signatures ("MZ", "BM") also start text files; real headers of these formats hold
    # NUL bytes early on, which text never does.
    needs_nul: bool = False


# Compound File Binary: legacy .doc/.xls/.ppt, and also the wrapper Word puts around a
# password-protected .docx.
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _at_start(prefix: bytes) -> tuple[tuple[int, bytes], ...]:
    return ((0, prefix),)


MAGICS: tuple[Magic, ...] = (
    Magic("pdf", "PDF document", _at_start(b"%PDF-")),
    Magic("docx", "zip archive", _at_start(b"PK\x03\x04")),
    Magic("docx", "zip archive", _at_start(b"PK\x05\x06")),  # empty archive
    Magic("docx", "zip archive", _at_start(b"PK\x07\x08")),  # spanned archive
    Magic("unsupported", "gzip archive", _at_start(b"\x1f\x8b")),
    Magic("unsupported", "7-Zip archive", _at_start(b"7z\xbc\xaf\x27\x1c")),
    Magic("unsupported", "RAR archive", _at_start(b"Rar!\x1a\x07")),
    Magic("unsupported", "xz archive", _at_start(b"\xfd7zXZ\x00")),
    Magic("unsupported", "bzip2 archive", ((0, b"BZh"), (4, b"1AY&SY"))),
    Magic("unsupported", "zstd archive", _at_start(b"\x28\xb5\x2f\xfd")),
    Magic("unsupported", "tar archive", ((257, b"ustar"),)),
    Magic("unsupported", "PNG image", _at_start(b"\x89PNG\r\n\x1a\n")),
    Magic("unsupported", "JPEG image", _at_start(b"\xff\xd8\xff")),
    Magic("unsupported", "GIF image", _at_start(b"GIF87a")),
    Magic("unsupported", "GIF image", _at_start(b"GIF89a")),
    Magic("unsupported", "WebP image", ((0, b"RIFF"), (8, b"WEBP"))),
    Magic("unsupported", "TIFF image", _at_start(b"II*\x00")),
    Magic("unsupported", "TIFF image", _at_start(b"MM\x00*")),
    Magic("unsupported", "BMP image", _at_start(b"BM"), needs_nul=True),
    Magic("unsupported", "ELF executable", _at_start(b"\x7fELF")),
    Magic("unsupported", "Windows executable", _at_start(b"MZ"), needs_nul=True),
    Magic("unsupported", "Mach-O executable", _at_start(b"\xfe\xed\xfa\xce")),
    Magic("unsupported", "Mach-O executable", _at_start(b"\xfe\xed\xfa\xcf")),
    Magic("unsupported", "Mach-O executable", _at_start(b"\xce\xfa\xed\xfe")),
    Magic("unsupported", "Mach-O executable", _at_start(b"\xcf\xfa\xed\xfe")),
    Magic(
        "unsupported",
        "legacy Microsoft Office document (.doc/.xls/.ppt; save it as .docx or PDF)",
        _at_start(_OLE2),
    ),
)

# Where a PDF header may sit when the file is declared as PDF: the specification tolerates
# junk before it, and some generators write a few bytes first.
_PDF_HEADER_WINDOW = 1024
_UTF16_SAMPLE_BYTES = 4096
_HTML_START = re.compile(
    rb"(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b",
    re.IGNORECASE | re.DOTALL,
)


def sniff_binary(data: bytes) -> Magic | None:
    """Return the binary format ``data`` starts with, or None when it matches none."""
    for magic in MAGICS:
        if all(data[at : at + len(part)] == part for at, part in magic.signature) and (
            not magic.needs_nul or b"\x00" in data[:64]
        ):
            return magic
    return None


def detect_format(data: bytes, declared: str) -> str:
    """Return the format to parse ``data`` as, given the type its name declares."""
    if not data:
        raise EmptyDocumentError("file is empty")
    magic = sniff_binary(data)
    if magic is None and declared == "pdf" and b"%PDF-" in data[:_PDF_HEADER_WINDOW]:
        return "pdf"
    if magic is not None:
        if declared == "docx" and data.startswith(_OLE2):
            raise UnreadableFileError(
                "DOCX is encrypted (password-protected) or in the old .doc format; "
                "remove the password or save it as .docx, and upload again"
            )
        if magic.kind == "unsupported":
            raise UnsupportedFileTypeError(
                f"unsupported file type: {magic.description} (declared as {declared})"
            )
        return magic.kind
    if declared in TEXT_TYPES:
        _refuse_utf16_without_bom(data)
        return declared
    return _text_format_for_binary_declared(data, declared)


def looks_like_utf16_without_bom(data: bytes) -> bool:
    """True for text in UTF-16 without a byte-order mark, as some Windows tools save it.

    Latin-script UTF-16 has a NUL in every other byte (the odd ones in little-endian, the even
    ones in big-endian) and almost none in the others; binary data has no such rhythm.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    sample = data[:_UTF16_SAMPLE_BYTES]
    if len(sample) < 8 or b"\x00" not in sample:
        return False
    for zeros, letters, codec in (
        (sample[1::2], sample[0::2], "utf-16-le"),
        (sample[0::2], sample[1::2], "utf-16-be"),
    ):
        if zeros.count(0) >= 0.9 * len(zeros) and letters.count(0) <= 0.1 * len(letters):
            text = sample[: len(sample) // 2 * 2].decode(codec, errors="replace")
            printable = sum(ch.isprintable() or ch in "\t\n\r" for ch in text)
            return printable >= 0.9 * len(text)
    return False


def _refuse_utf16_without_bom(data: bytes) -> None:
    if looks_like_utf16_without_bom(data):
        raise UnreadableFileError(
            "file is not text as aibox reads it: it looks like UTF-16 without a byte-order mark; "
            "save it as UTF-8 (or UTF-16 with a byte-order mark) and upload again"
        )


def _text_format_for_binary_declared(data: bytes, declared: str) -> str:
    """A file named as PDF/DOCX that has no such header: parse it as the text it holds."""
    try:
        decode_bytes(data)
    except UnreadableFileError:
        if declared == "pdf":
            raise UnreadableFileError(
                "PDF is damaged or truncated: the file has no PDF header"
            ) from None
        raise UnreadableFileError("DOCX is not valid: the file is not a zip archive") from None
    return "html" if _HTML_START.match(data[:_PDF_HEADER_WINDOW]) else "txt"
