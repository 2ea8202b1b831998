"""CSV parser: dialect sniffing, header-keyed rows, encodings, and files with nothing to read."""

from __future__ import annotations

import codecs

import pytest

from aibox.errors import EmptyDocumentError, UnreadableFileError
from aibox.pipeline.parsers import parse_bytes


def test_comma_separated_rows_keyed_by_the_header() -> None:
    data = b"name,city,founded\nTSMC,Hsinchu,1987\nUMC,,1980\n\n"
    doc = parse_bytes(data, "csv")
    assert doc.text == "name: TSMC; city: Hsinchu; founded: 1987\nname: UMC; founded: 1980"
    assert (doc.file_type, doc.encoding) == ("csv", "utf-8")


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_dialect_is_sniffed(delimiter: str) -> None:
    rows = [["name", "note", "count"], ["a", "x, y", "1"], ["b", "z", "2"], ["c", "w", "3"]]
    data = "\n".join(delimiter.join(row) for row in rows).encode()
    assert parse_bytes(data, "csv").text == (
        "name: a; note: x, y; count: 1\nname: b; note: z; count: 2\nname: c; note: w; count: 3"
    )


def test_quoted_fields_with_delimiters_and_newlines() -> None:
    data = b'id,comment\r\n1,"Hello, world"\r\n2,"two\r\nlines"\r\n'
    assert (
        parse_bytes(data, "csv").text == "id: 1; comment: Hello, world\nid: 2; comment: two lines"
    )


def test_single_column_falls_back_to_comma() -> None:
    assert parse_bytes(b"word\nalpha\nbeta\n", "csv").text == "word: alpha\nword: beta"


def test_missing_header_names_and_extra_fields() -> None:
    data = b"name,,\nA,B,C,D\n"
    assert parse_bytes(data, "csv").text == "name: A; column 2: B; column 3: C; column 4: D"


@pytest.mark.parametrize("codec", ["big5", "gbk", "utf-16", "utf-8-sig"])
def test_chinese_csv_in_common_encodings(codec: str) -> None:
    rows = [
        "公司,城市,說明",
        "台積電,新竹,全球最大的專業積體電路製造服務公司，總部位於新竹科學園區",
        "聯華電子,新竹,台灣第一家半導體公司，成立於一九八零年，總部位於新竹科學園區",
    ]
    doc = parse_bytes("\n".join(rows).encode(codec), "csv")
    assert doc.text.split("\n")[0] == (
        "公司: 台積電; 城市: 新竹; 說明: 全球最大的專業積體電路製造服務公司，總部位於新竹科學園區"
    )


def test_header_only_is_empty() -> None:
    with pytest.raises(EmptyDocumentError, match=r"^CSV has a header row but no data rows$"):
        parse_bytes(b"name,city\n,\n\n", "csv")


def test_blank_csv_is_empty() -> None:
    with pytest.raises(EmptyDocumentError, match=r"^file contains no text$"):
        parse_bytes(b"\n\n  \n", "csv")


def test_binary_csv_is_unreadable() -> None:
    data = bytes(range(256)) * 16
    with pytest.raises(UnreadableFileError, match=r"^file is not text: .*binary data"):
        parse_bytes(data, "csv")


def test_corrupt_utf16_csv_is_unreadable() -> None:
    data = codecs.BOM_UTF16_LE + "a,b\n1,2".encode("utf-16-le") + b"\x00"
    with pytest.raises(UnreadableFileError, match="byte-order mark"):
        parse_bytes(data, "csv")


def test_oversized_field_is_reported_with_its_line() -> None:
    data = b"id,text\n1,short\n2," + b"x" * 200_000 + b"\n"
    with pytest.raises(UnreadableFileError, match=r"^CSV is not valid: .*field limit.*\(line 3\)"):
        parse_bytes(data, "csv")
