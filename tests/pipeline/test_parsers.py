"""Parser registry: file type detection, content sniffing, dispatch, empty and binary files."""

from __future__ import annotations

import codecs
import pathlib

import pytest

from aibox.errors import EmptyDocumentError, UnreadableFileError, UnsupportedFileTypeError
from aibox.pipeline.parsers import FORMATS, SUPPORTED_TYPES, file_type_for, parse_bytes, parse_file
from aibox.pipeline.parsers.sniff import MAGICS, Magic, detect_format, sniff_binary

DOCS = pathlib.Path(__file__).resolve().parents[1] / "data" / "docs"

BIG5_TEXT = (
    "台積電成立於1987年，總部位於新竹科學園區，是全球最大的專業積體電路製造服務公司。"
    "公司創辦人張忠謀曾任德州儀器資深副總裁，於五十六歲時創立台積電。"
)


def test_supported_types() -> None:
    assert frozenset({"txt", "md", "html", "csv", "json", "pdf", "docx"}) == SUPPORTED_TYPES


@pytest.mark.parametrize(
    ("filename", "content_type", "expected"),
    [
        ("notes.txt", None, "txt"),
        ("NOTES.TXT", None, "txt"),
        ("notes.text", None, "txt"),
        ("readme.md", None, "md"),
        ("readme.Markdown", None, "md"),
        ("C:\\Users\\me\\report.final.md", None, "md"),
        ("dir/sub/notes.txt", None, "txt"),
        ("page.html", None, "html"),
        ("page.HTM", None, "html"),
        ("page.xhtml", None, "html"),
        ("table.csv", None, "csv"),
        ("data.json", None, "json"),
        ("paper.pdf", None, "pdf"),
        ("letter.docx", None, "docx"),
        ("upload", "text/plain", "txt"),
        ("upload", "text/markdown; charset=utf-8", "md"),
        ("upload", "Text/Plain", "txt"),
        ("upload", "text/html; charset=big5", "html"),
        ("upload", "application/xhtml+xml", "html"),
        ("upload", "text/csv", "csv"),
        ("upload", "application/json", "json"),
        ("upload", "application/pdf", "pdf"),
        (
            "upload",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
        ),
        ("notes.txt", "application/octet-stream", "txt"),
        ("upload.bin", "text/plain", "txt"),
        # No extension, no telling MIME type: the content decides when the file is parsed.
        ("README", None, "txt"),
        ("blob", "application/octet-stream", "txt"),
    ],
)
def test_file_type_for(filename: str, content_type: str | None, expected: str) -> None:
    assert file_type_for(filename, content_type) == expected


@pytest.mark.parametrize(
    ("filename", "content_type", "message"),
    [
        ("photo.png", None, "unsupported file type: .png"),
        ("photo.PNG", "image/png", "unsupported file type: .png"),
        ("archive.zip", "application/zip", "unsupported file type: .zip"),
        ("setup.exe", None, "unsupported file type: .exe"),
        ("old.doc", "application/msword", "unsupported file type: .doc"),
        ("archive.tar.gz", None, "unsupported file type: .gz"),
        ("photo", "image/png", "unsupported file type: image/png (file has no extension)"),
    ],
)
def test_unsupported_file_types(filename: str, content_type: str | None, message: str) -> None:
    with pytest.raises(UnsupportedFileTypeError) as excinfo:
        file_type_for(filename, content_type)
    assert str(excinfo.value).startswith(message)


def test_every_registered_extension_maps_to_its_format() -> None:
    for fmt in FORMATS:
        for ext in fmt.extensions:
            assert file_type_for(f"file{ext}") == fmt.name
        for mime in fmt.mime_types:
            assert file_type_for("file", mime) == fmt.name


def test_parse_utf8_text(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"Hello.\r\nWorld.\r\n")
    doc = parse_file(path, "txt")
    assert (doc.text, doc.file_type, doc.encoding) == ("Hello.\nWorld.\n", "txt", "utf-8")
    assert (doc.pages, doc.headings) == ((), ())


def test_parse_big5_markdown(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "a.md"
    path.write_bytes(("# 標題\n\n" + BIG5_TEXT).encode("big5"))
    doc = parse_file(path, "md")
    assert doc.text == "# 標題\n\n" + BIG5_TEXT
    assert doc.file_type == "md"
    assert doc.encoding == "big5"
    assert doc.headings == ((0, 4),)


@pytest.mark.parametrize("codec", ["utf-16", "gbk"])
def test_text_in_other_encodings(codec: str) -> None:
    assert parse_bytes(BIG5_TEXT.encode(codec), "txt").text == BIG5_TEXT


def test_zero_byte_file_is_empty() -> None:
    for file_type in sorted(SUPPORTED_TYPES):
        with pytest.raises(EmptyDocumentError, match=r"^file is empty$"):
            parse_bytes(b"", file_type)


@pytest.mark.parametrize("data", [b"  \n\t\r\n ", "\u3000\n".encode(), codecs.BOM_UTF8 + b"\n"])
def test_blank_file_is_an_empty_document(tmp_path: pathlib.Path, data: bytes) -> None:
    path = tmp_path / "blank.txt"
    path.write_bytes(data)
    with pytest.raises(EmptyDocumentError, match=r"^file contains no text$"):
        parse_file(path, "txt")


def test_unknown_declared_type_is_unsupported() -> None:
    with pytest.raises(UnsupportedFileTypeError, match=r"^unsupported file type: xlsx$"):
        parse_bytes(b"PK\x03\x04", "xlsx")


def test_pdf_named_txt_is_parsed_as_pdf() -> None:
    doc = parse_bytes((DOCS / "python-tutorial-appetite.pdf").read_bytes(), "txt")
    assert doc.file_type == "pdf"
    assert "Python is just the language for you." in doc.text


def test_docx_named_txt_is_parsed_as_docx() -> None:
    doc = parse_bytes((DOCS / "python-tutorial-appetite.docx").read_bytes(), "txt")
    assert doc.file_type == "docx"
    assert "Python is just the language for you." in doc.text


def test_html_named_pdf_is_parsed_as_html() -> None:
    doc = parse_bytes((DOCS / "python-tutorial-appetite.html").read_bytes(), "pdf")
    assert doc.file_type == "html"
    assert doc.text.startswith("1. Whetting Your Appetite\n\n")


def test_text_named_pdf_or_docx_is_parsed_as_text() -> None:
    for declared in ("pdf", "docx"):
        doc = parse_bytes(BIG5_TEXT.encode("big5"), declared)
        assert (doc.file_type, doc.text) == ("txt", BIG5_TEXT)


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ("pdf", "PDF is damaged or truncated: the file has no PDF header"),
        ("docx", "DOCX is not valid: the file is not a zip archive"),
    ],
)
def test_binary_without_magic_named_pdf_or_docx(declared: str, message: str) -> None:
    with pytest.raises(UnreadableFileError, match=f"^{message}$"):
        parse_bytes(b"\x00\x01\x02\x03 not a known format", declared)


@pytest.mark.parametrize("declared", ["html", "md", "pdf", "docx"])
def test_png_is_an_unsupported_image_whatever_its_name(declared: str) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(50)
    with pytest.raises(UnsupportedFileTypeError) as excinfo:
        parse_bytes(png, declared)
    assert str(excinfo.value) == f"unsupported file type: PNG image (declared as {declared})"


UNSUPPORTED = [m for m in MAGICS if m.kind == "unsupported"]


@pytest.mark.parametrize("magic", UNSUPPORTED, ids=lambda m: m.description)
def test_binary_magic_is_unsupported(magic: Magic) -> None:
    data = bytearray(b"\x00" * 300 + b"rest of the file")
    for offset, part in magic.signature:
        data[offset : offset + len(part)] = part
    with pytest.raises(UnsupportedFileTypeError) as excinfo:
        parse_bytes(bytes(data), "txt")
    assert str(excinfo.value) == f"unsupported file type: {magic.description} (declared as txt)"
    assert any(w in magic.description for w in ("archive", "image", "executable", "Office"))


def test_short_signatures_need_binary_bytes() -> None:
    # "MZ" and "BM" start words too; without NUL bytes in the header it is text.
    assert parse_bytes(b"MZ is a postcode prefix.", "txt").text == "MZ is a postcode prefix."
    assert parse_bytes(b"BMW makes cars.", "txt").text == "BMW makes cars."


def test_detect_format() -> None:
    assert detect_format(b"%PDF-1.7\n", "txt") == "pdf"
    assert detect_format(b"junk\n%PDF-1.4\n", "pdf") == "pdf"
    assert detect_format(b"junk\n%PDF-1.4\n", "txt") == "txt"
    assert detect_format(b"PK\x03\x04rest", "md") == "docx"
    assert detect_format(b"not really html", "html") == "html"
    assert detect_format(b"{}", "csv") == "csv"
    assert detect_format(b"\xef\xbb\xbf<!DOCTYPE html><p>x", "pdf") == "html"


def test_sniff_needs_the_whole_magic() -> None:
    assert sniff_binary(b"%PDF is a file format") is None
    assert sniff_binary(b"PK is not a zip") is None
    assert sniff_binary(b"RIFF....WAVE") is None
    assert sniff_binary(b"") is None
    magic = sniff_binary(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert magic is not None
    assert magic.description == "PNG image"


def test_binary_without_magic_is_unreadable(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"\x00\x01\x02\x03 not a known format")
    with pytest.raises(UnreadableFileError, match=r"^file is not text"):
        parse_file(path, "txt")


@pytest.mark.parametrize("declared", ["txt", "md", "csv", "json", "html"])
def test_invalid_utf8_binary_is_unreadable_for_every_text_format(declared: str) -> None:
    data = b"\xff\xfe\xfd" * 10 + b"\x00" * 20 + bytes(range(1, 32)) * 4
    with pytest.raises(UnreadableFileError, match=r"^file is not text: .*binary data"):
        parse_bytes(data[2:], declared)
