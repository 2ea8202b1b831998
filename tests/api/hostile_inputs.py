"""Hostile files, built in memory: what each is and what aibox must make of it.

Kept apart from the test so the cases can also be fed to the parsers directly when one breaks.
Each case says how its job must end: ``completed`` (with a phrase that must be in its chunks),
or ``failed`` (with words its message must contain).
"""

from __future__ import annotations

import gzip
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "data" / "docs"
REAL_PDF = DOCS / "python-tutorial-appetite.pdf"
REAL_DOCX = DOCS / "python-tutorial-appetite.docx"
PDF_PHRASE = "Python is simple to use, but it is a real programming"


@dataclass(frozen=True)
class Case:
    """One hostile upload and the outcome its job must have."""

    name: str  # the uploaded file name; its extension is the declared type
    make: Callable[[], bytes]
    outcome: str  # "completed" or "failed"
    words: tuple[str, ...] = ()  # failed: one must be in the message; completed: in the text
    absent: tuple[str, ...] = ()  # must not be in the text of a completed job


# --- text -------------------------------------------------------------------------------------


def long_line() -> bytes:
    """50 MB of words on one line: no newline anywhere."""
    return b"lorem ipsum dolor sit amet " * (50_000_000 // 27)


def one_word() -> bytes:
    """2 MB without a single space, newline or punctuation mark: one enormous "word"."""
    return b"Start" + b"x" * (2 * 1024 * 1024) + b" end of the giant word."


def dot_leaders() -> bytes:
    """A table-of-contents line whose dot leader runs for 3 MB (sentence splitting's worst case)."""
    return b"Chapter 1 Rosalind Franklin " + b"." * 3_000_000 + b" 5\n"


def invalid_utf8() -> bytes:
    """UTF-8 text with stray bytes that are invalid UTF-8 (a lone lead byte, a bad sequence)."""
    good = b"Ada Lovelace wrote notes about the Analytical Engine in London. "
    return good * 40 + b"caf\xe9 \xc3\x28 \xa0\xa1 \xff" + good * 40


def utf16_without_bom() -> bytes:
    """UTF-16 LE text as Windows tools write it, but without its byte-order mark."""
    return ("Grace Hopper worked on the Harvard Mark I computer. " * 50).encode("utf-16-le")


def whitespace_only() -> bytes:
    """Spaces, tabs, newlines and ideographic spaces, nothing else."""
    return " \t\r\n\n  \u3000".encode() * 5000


def control_characters() -> bytes:
    return bytes(range(1, 9)) * 500 + b"some words"


def truncated_utf16() -> bytes:
    """A UTF-16 byte-order mark, then an odd number of bytes: cut off mid-character."""
    return b"\xff\xfe" + "Cut off here".encode("utf-16-le") + b"\x41"


def gzip_as_text() -> bytes:
    return gzip.compress(b"Compressed words about Paris. " * 1000)


def elf_binary() -> bytes:
    """The start of an x86-64 ELF executable."""
    header = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + struct.pack("<HHI", 2, 0x3E, 1)
    return header + b"\x00" * 4096


# --- markup and data --------------------------------------------------------------------------


def nested_html_100k() -> bytes:
    depth = 100_000
    return b"<html><body>" + b"<div>" * depth + b"bottom of the well" + b"</div>" * depth


def million_attributes_html() -> bytes:
    attributes = b" ".join(b'a%d="v"' % i for i in range(1_000_000))
    return b"<html><body><p " + attributes + b">attribute soup survived</p></body></html>"


def markdown_huge_link() -> bytes:
    url = b"https://example.com/" + b"a" * (1024 * 1024)
    return b"# Links\n\nSee [the manual](" + url + b") for Marie Curie's notes.\n"


def csv_with_nul() -> bytes:
    return b"name,city\nAda,Lon\x00don\nAlan,Manchester\n"


def csv_huge_field() -> bytes:
    return b"name,notes\nAda," + b"x" * (10 * 1024 * 1024) + b"\nAlan,short\n"


def json_deep() -> bytes:
    return b"[" * 100_000 + b"]" * 100_000


def json_deep_objects() -> bytes:
    return b'{"a":' * 100_000 + b"1" + b"}" * 100_000


def json_huge_integer() -> bytes:
    return b'{"n": ' + b"9" * 100_000 + b"}"


def json_huge_float() -> bytes:
    return b'{"label": "Avogadro scale", "n": 1e999999, "m": -1e999999}'


# --- PDF --------------------------------------------------------------------------------------


def pdf_bad_startxref() -> bytes:
    """The real PDF with its startxref offset pointing into the middle of nowhere."""
    data = REAL_PDF.read_bytes()
    return re.sub(rb"startxref\s+\d+", b"startxref\n123", data)


def pdf_without_xref() -> bytes:
    """The real PDF with its cross-reference table and trailer cut off."""
    data = REAL_PDF.read_bytes()
    return data[: data.rindex(b"\nxref")]


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF with these objects (numbered from 1), a correct xref table and trailer."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def pdf_cyclic_pages() -> bytes:
    """A page tree whose /Kids contains itself."""
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        ]
    )


def pdf_flate_bomb() -> bytes:
    """One page whose content stream shows a line of text, then inflates to 1 GB of spaces."""
    compressor = zlib.compressobj(9)
    block = b" " * (1024 * 1024)
    text = b"BT /F1 12 Tf 72 720 Td (Hello from the bomb) Tj ET\n"
    stream = compressor.compress(text)
    stream += b"".join(compressor.compress(block) for _ in range(1024)) + compressor.flush()
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
            + stream
            + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


# --- DOCX -------------------------------------------------------------------------------------


def _docx_with(document_xml: bytes) -> bytes:
    """The real DOCX with its main part replaced."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(REAL_DOCX) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            body = document_xml if entry.filename == "word/document.xml" else source.read(entry)
            target.writestr(entry.filename, body)
    return out.getvalue()


_W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _document(doctype: bytes, paragraph: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        + doctype
        + b"<w:document "
        + _W
        + b"><w:body><w:p><w:r><w:t>"
        + paragraph
        + b"</w:t></w:r></w:p><w:p><w:r><w:t>Marie Curie studied radium in Paris.</w:t></w:r>"
        + b"</w:p></w:body></w:document>"
    )


def docx_billion_laughs() -> bytes:
    entities = [b'<!ENTITY lol0 "lol">']
    entities += [b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10)]
    doctype = b"<!DOCTYPE w:document [" + b"".join(entities) + b"]>\n"
    return _docx_with(_document(doctype, b"&lol9;"))


def docx_xxe() -> bytes:
    doctype = b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    return _docx_with(_document(doctype, b"&xxe;"))


def docx_malformed_xml() -> bytes:
    return _docx_with(b"<w:document " + _W + b"><w:body><w:p>unclosed")


def docx_many_entries() -> bytes:
    """A zip with the main part and 10,001 tiny others: a zip bomb by count."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", _document(b"", b"many"))
        for i in range(10_001):
            archive.writestr(f"junk/{i}", b"")
    return out.getvalue()


def docx_lying_sizes() -> bytes:
    """A zip bomb whose headers claim its 100 MB main part is 1 KB (passing the size checks)."""
    data = bytearray(_docx_with(b" " * (100 * 1024 * 1024)))
    real = struct.pack("<I", 100 * 1024 * 1024)
    fake = struct.pack("<I", 1024)
    # The uncompressed size sits in the local header (offset 22) and central directory (24).
    for header, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := data.find(header, start)) != -1:
            if data[start + size_at : start + size_at + 4] == real:
                data[start + size_at : start + size_at + 4] = fake
            start += 4
    return bytes(data)


def docx_without_content_types() -> bytes:
    """A zip holding only word/document.xml: no content types, no relationships."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", _document(b"", b"orphan part"))
    return out.getvalue()


# --- the cases --------------------------------------------------------------------------------

PASSWD = ("root:", "/bin/sh", "/usr/sbin/nologin", "daemon:")

CASES: tuple[Case, ...] = (
    Case("long-line.txt", long_line, "failed", ("the limit is",)),
    Case("one-word.txt", one_word, "completed", ("end of the giant word",)),
    Case("invalid-utf8.txt", invalid_utf8, "completed", ("Analytical Engine",)),
    Case("dot-leaders.txt", dot_leaders, "completed", ("Chapter 1 Rosalind Franklin",)),
    Case("utf16-no-bom.txt", utf16_without_bom, "failed", ("UTF-16",)),
    Case("whitespace.txt", whitespace_only, "failed", ("no text",)),
    Case("controls.txt", control_characters, "failed", ("control characters",)),
    Case("truncated-utf16.txt", truncated_utf16, "failed", ("truncated",)),
    Case("archive.txt", gzip_as_text, "failed", ("gzip archive",)),
    Case("program.pdf", elf_binary, "failed", ("ELF executable",)),
    Case("empty.pdf", lambda: b"", "failed", ("empty",)),
    Case("bom-only.md", lambda: b"\xef\xbb\xbf", "failed", ("no text",)),
    Case("nested-100k.html", nested_html_100k, "completed", ("bottom of the well",)),
    Case("attributes.html", million_attributes_html, "completed", ("attribute soup survived",)),
    Case("huge-link.md", markdown_huge_link, "completed", ("Marie Curie",)),
    Case("nul.csv", csv_with_nul, "failed", ("NUL",)),
    Case("huge-field.csv", csv_huge_field, "failed", ("field limit",)),
    Case("deep.json", json_deep, "failed", ("nested too deeply",)),
    Case("deep-objects.json", json_deep_objects, "failed", ("nested too deeply",)),
    Case("huge-integer.json", json_huge_integer, "failed", ("number too long",)),
    Case("huge-float.json", json_huge_float, "completed", ("Avogadro scale",)),
    Case("bad-startxref.pdf", pdf_bad_startxref, "completed", (PDF_PHRASE,)),
    Case("no-xref.pdf", pdf_without_xref, "failed", ("cut off",)),
    Case("cyclic-pages.pdf", pdf_cyclic_pages, "failed", ("cyclic",)),
    Case("flate-bomb.pdf", pdf_flate_bomb, "failed", ("safety limits",)),
    Case("laughs.docx", docx_billion_laughs, "failed", ("entity bomb",)),
    Case("xxe.docx", docx_xxe, "completed", ("Marie Curie",), PASSWD),
    Case("malformed.docx", docx_malformed_xml, "failed", ("XML is malformed",)),
    Case(
        "script-only.html",
        lambda: b"<html><script>alert(1)</script></html>",
        "failed",
        ("no visible text",),
    ),
    Case("many-entries.docx", docx_many_entries, "failed", ("zip bomb",)),
    Case("lying-sizes.docx", docx_lying_sizes, "failed", ("zip archive is corrupt",)),
    Case("no-content-types.docx", docx_without_content_types, "failed", ("is missing",)),
)
