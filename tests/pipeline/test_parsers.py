"""Parser registry: file type detection, dispatch, content sniffing, empty documents."""

from __future__ import annotations

import pathlib

import pytest

from aibox.errors import EmptyDocumentError, UnreadableFileError, UnsupportedFileTypeError
from aibox.pipeline.parsers import FORMATS, SUPPORTED_TYPES, file_type_for, parse_file
from aibox.pipeline.parsers.sniff import MAGICS, Magic, sniff_binary

BIG5_TEXT = (
    "台積電成立於1987年，總部位於新竹科學園區，是全球最大的專業積體電路製造服務公司。"
    "公司創辦人張忠謀曾任德州儀器資深副總裁，於五十六歲時創立台積電。"
)


def test_supported_types() -> None:
    assert frozenset({"txt", "md"}) == SUPPORTED_TYPES


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
        ("upload", "text/plain", "txt"),
        ("upload", "text/markdown; charset=utf-8", "md"),
        ("upload", "Text/Plain", "txt"),
        ("notes.txt", "application/octet-stream", "txt"),
        ("upload.bin", "text/plain", "txt"),
    ],
)
def test_file_type_for(filename: str, content_type: str | None, expected: str) -> None:
    assert file_type_for(filename, content_type) == expected


@pytest.mark.parametrize(
    ("filename", "content_type", "message"),
    [
        ("photo.png", None, "unsupported file type: .png"),
        ("photo.PNG", "image/png", "unsupported file type: .png"),
        ("archive.tar.gz", None, "unsupported file type: .gz"),
        ("README", None, "unsupported file type: file has no extension"),
        ("blob", "application/octet-stream", "unsupported file type: application/octet-stream"),
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


def test_parse_big5_markdown(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "a.md"
    path.write_bytes(("# 標題\n\n" + BIG5_TEXT).encode("big5"))
    doc = parse_file(path, "md")
    assert doc.text == "# 標題\n\n" + BIG5_TEXT
    assert doc.file_type == "md"
    assert doc.encoding == "big5"


@pytest.mark.parametrize("data", [b"", b"  \n\t\r\n ", "\u3000\n".encode(), b"\xef\xbb\xbf\n"])
def test_blank_file_is_an_empty_document(tmp_path: pathlib.Path, data: bytes) -> None:
    path = tmp_path / "blank.txt"
    path.write_bytes(data)
    with pytest.raises(EmptyDocumentError, match=r"^file contains no text$"):
        parse_file(path, "txt")


def test_unknown_type_is_unsupported(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "a.pdf"
    path.write_bytes(b"%PDF-1.7\n")
    with pytest.raises(UnsupportedFileTypeError, match=r"^unsupported file type: pdf$"):
        parse_file(path, "pdf")


def test_pdf_named_txt_is_reported_as_pdf(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    with pytest.raises(UnsupportedFileTypeError) as excinfo:
        parse_file(path, "txt")
    assert str(excinfo.value) == (
        "file declared as txt is actually a PDF document; unsupported file type: pdf"
    )


@pytest.mark.parametrize("magic", MAGICS, ids=lambda m: m.description)
def test_binary_magic_in_text_file_is_unsupported(tmp_path: pathlib.Path, magic: Magic) -> None:
    path = tmp_path / "a.md"
    path.write_bytes(magic.prefix + b"rest of the file")
    expected = f"file declared as md is actually {magic.description}; unsupported file type: "
    with pytest.raises(UnsupportedFileTypeError) as excinfo:
        parse_file(path, "md")
    assert str(excinfo.value) == expected + magic.file_type


def test_sniff_needs_the_whole_magic() -> None:
    assert sniff_binary(b"%PDF is a file format") is None
    assert sniff_binary(b"PK is not a zip") is None
    assert sniff_binary(b"") is None
    magic = sniff_binary(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert magic is not None
    assert magic.file_type == "png"


def test_binary_without_magic_is_unreadable(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"\x00\x01\x02\x03 not a known format")
    with pytest.raises(UnreadableFileError, match=r"^file is not text"):
        parse_file(path, "txt")
