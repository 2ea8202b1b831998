"""Recognise well-known binary formats by their leading magic bytes."""

from __future__ import annotations

from typing import NamedTuple


class Magic(NamedTuple):
    """A binary format recognised from the first bytes of a file."""

    file_type: str  # short lower-case name used in error messages, e.g. "pdf"
    description: str  # human wording, e.g. "a PDF document"
    prefix: bytes


MAGICS: tuple[Magic, ...] = (
    Magic("pdf", "a PDF document", b"%PDF-"),
    Magic("zip", "a ZIP archive (e.g. DOCX, XLSX)", b"PK\x03\x04"),
    Magic("zip", "a ZIP archive (e.g. DOCX, XLSX)", b"PK\x05\x06"),  # empty archive
    Magic("png", "a PNG image", b"\x89PNG\r\n\x1a\n"),
    Magic("jpeg", "a JPEG image", b"\xff\xd8\xff"),
    Magic("gif", "a GIF image", b"GIF87a"),
    Magic("gif", "a GIF image", b"GIF89a"),
    Magic("elf", "an ELF executable", b"\x7fELF"),
    Magic("gzip", "a gzip archive", b"\x1f\x8b"),
)


def sniff_binary(data: bytes) -> Magic | None:
    """Return the binary format ``data`` starts with, or None when it matches none."""
    for magic in MAGICS:
        if data.startswith(magic.prefix):
            return magic
    return None
