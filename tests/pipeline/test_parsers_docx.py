"""DOCX parser: real converted documents, body order, tables, headings, and hostile archives."""

from __future__ import annotations

import io
import pathlib
import zipfile

import docx
import pytest

from aibox.errors import EmptyDocumentError, UnreadableFileError, UnsupportedFileTypeError
from aibox.pipeline.parsers import docx as docx_parser
from aibox.pipeline.parsers import parse_bytes

DOCS = pathlib.Path(__file__).resolve().parents[1] / "data" / "docs"
APPETITE = DOCS / "python-tutorial-appetite.docx"
ZH_TW = DOCS / "debian-reference-ch04.zh-tw.docx"


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def _generated_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Quarterly report", level=0)
    document.add_paragraph("Revenue grew in every region.")
    document.add_heading("Results by region", level=1)
    table = document.add_table(rows=3, cols=3)
    values = [("Region", "Revenue", "Growth"), ("Taipei", "120", "8%"), ("Hsinchu", "", "")]
    for row, row_values in zip(table.rows, values, strict=True):
        for cell, value in zip(row.cells, row_values, strict=True):
            cell.text = value
    table.cell(2, 1).merge(table.cell(2, 2)).text = "n/a"
    document.add_paragraph("")  # empty paragraphs leave no trace
    document.add_paragraph("Taipei led the growth.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_generated_docx_keeps_body_order_tables_and_headings() -> None:
    doc = parse_bytes(_generated_docx(), "docx")
    assert doc.file_type == "docx"
    assert doc.text == (
        "Quarterly report\n\n"
        "Revenue grew in every region.\n\n"
        "Results by region\n\n"
        "Region | Revenue | Growth\nTaipei | 120 | 8%\nHsinchu | n/a\n\n"
        "Taipei led the growth."
    )
    assert [doc.text[a:b] for a, b in doc.headings] == ["Quarterly report", "Results by region"]


def test_english_docx_converted_by_libreoffice() -> None:
    doc = parse_bytes(APPETITE.read_bytes(), "docx")
    assert "Python is just the language for you." in doc.text
    assert "It is also a handy desk calculator." in doc.text
    headings = [doc.text[a:b] for a, b in doc.headings]
    assert "1. Whetting Your Appetite¶" in headings
    # The page's scripts and styles never reach a Word document.
    assert "documentation_options" not in doc.text
    assert "full-width-table" not in doc.text


def test_traditional_chinese_docx_tables_and_headings() -> None:
    doc = parse_bytes(ZH_TW.read_bytes(), "docx")
    row = "/etc/passwd | -rw-r--r-- | root | root | （明文的）使用者帳號資訊"
    assert row in doc.text.split("\n")
    assert "檔案 | 許可權 | 使用者 | 組 | 說明" in doc.text.split("\n")
    assert "當使用者（或程式）需要存取系統時，需要進行認證，確認身份是受信任。" in doc.text
    headings = [doc.text[a:b] for a, b in doc.headings]
    assert headings[0] == "章 4. 認證和訪問控制"
    assert "4.1. 一般的 Unix 認證" in headings
    assert "4.6.2. 安全 Shell" in headings
    # Body order: the section heading, then its paragraph, then its table.
    section = doc.text.index("4.1. 一般的 Unix 認證\n\n一般的 Unix 認證由 PAM")
    assert section < doc.text.index(row)
    assert all(a < b for a, b in doc.headings)
    assert [a for a, _ in doc.headings] == sorted(a for a, _ in doc.headings)


def test_zip_bomb_is_refused_before_unzipping() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as part:
            block = bytes(1 << 20)
            for _ in range(201):
                part.write(block)
    assert len(out.getvalue()) < 2 << 20
    with pytest.raises(UnreadableFileError) as excinfo:
        parse_bytes(out.getvalue(), "docx")
    assert str(excinfo.value) == (
        "DOCX expands to 201 MB when unzipped (limit 200 MB); refusing a possible zip bomb"
    )


def test_highly_compressed_part_is_refused() -> None:
    data = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": bytes(5 << 20)})
    with pytest.raises(UnreadableFileError) as excinfo:
        parse_bytes(data, "docx")
    message = str(excinfo.value)
    assert message.startswith("DOCX part word/document.xml is compressed ")
    assert message.endswith("(limit 100:1); refusing a possible zip bomb")


def test_too_many_parts_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docx_parser, "MAX_ENTRIES", 5)
    with pytest.raises(UnreadableFileError, match=r"^DOCX holds \d+ files \(limit 5\)"):
        parse_bytes(_generated_docx(), "docx")


@pytest.mark.parametrize(
    ("entries", "detail"),
    [
        ({"notes.txt": b"not a word document"}, "not a Word document"),
        ({"xl/workbook.xml": b"<workbook/>"}, "an Excel workbook, not a Word document"),
        ({"ppt/presentation.xml": b"<p/>"}, "a PowerPoint presentation, not a Word document"),
    ],
)
def test_zip_without_a_word_document_is_unsupported(entries: dict[str, bytes], detail: str) -> None:
    with pytest.raises(UnsupportedFileTypeError) as excinfo:
        parse_bytes(_zip(entries), "docx")
    assert str(excinfo.value) == f"unsupported file type: zip archive ({detail})"


def test_zip_named_txt_is_still_refused_as_an_archive() -> None:
    with pytest.raises(UnsupportedFileTypeError, match="zip archive"):
        parse_bytes(_zip({"a.txt": b"hello"}), "txt")


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04" + bytes(range(256)) * 4,
        _generated_docx()[:3000],
        _generated_docx()[: len(_generated_docx()) - 30],
    ],
    ids=["garbage", "truncated-early", "truncated-late"],
)
def test_corrupt_archive_is_not_valid(data: bytes) -> None:
    with pytest.raises(UnreadableFileError, match=r"^DOCX is not valid: not a readable zip"):
        parse_bytes(data, "docx")


def test_broken_document_xml_is_not_valid() -> None:
    data = _zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "word/document.xml": b"<w:document><w:body><w:p>unclosed",
        }
    )
    with pytest.raises(UnreadableFileError) as excinfo:
        parse_bytes(data, "docx")
    assert str(excinfo.value).startswith("DOCX is not valid: its Word parts are missing or")
    assert "\n" not in str(excinfo.value)


def test_malformed_xml_is_not_valid() -> None:
    with zipfile.ZipFile(io.BytesIO(_generated_docx())) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    parts["word/document.xml"] = parts["word/document.xml"][:-40]
    with pytest.raises(UnreadableFileError, match=r"^DOCX is not valid: its XML is malformed \("):
        parse_bytes(_zip(parts), "docx")


def test_docx_without_text_is_empty() -> None:
    out = io.BytesIO()
    docx.Document().save(out)
    with pytest.raises(EmptyDocumentError, match=r"^DOCX contains no text$"):
        parse_bytes(out.getvalue(), "docx")


def test_password_protected_docx_is_reported_as_encrypted() -> None:
    # Word wraps an encrypted .docx in a Compound File (the container of the old .doc).
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    with pytest.raises(UnreadableFileError, match=r"^DOCX is encrypted \(password-protected\)"):
        parse_bytes(ole2, "docx")
    with pytest.raises(UnsupportedFileTypeError, match="legacy Microsoft Office document"):
        parse_bytes(ole2, "txt")
