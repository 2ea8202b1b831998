"""JSON parser: records as key/value paragraphs, nesting, encodings, invalid and deep input."""

from __future__ import annotations

import json

import pytest

from aibox.errors import EmptyDocumentError, UnreadableFileError
from aibox.pipeline.parsers import parse_bytes
from aibox.pipeline.parsers.json import render_lines

RECORDS = [
    {
        "name": "台積電",
        "address": {"city": "Taipei", "district": "Xinyi", "zip": None},
        "tags": ["foundry", "semiconductor"],
        "listed": True,
        "employees": 76478,
        "note": "",
    },
    {"name": "UMC", "offices": [{"city": "Hsinchu"}, {"city": "Singapore"}]},
]


def test_list_of_records_is_one_paragraph_per_record() -> None:
    doc = parse_bytes(json.dumps(RECORDS, ensure_ascii=False).encode(), "json")
    assert doc.text == (
        "name: 台積電\naddress.city: Taipei\naddress.district: Xinyi\n"
        "tags: foundry, semiconductor\nlisted: true\nemployees: 76478\n\n"
        "name: UMC\noffices[0].city: Hsinchu\noffices[1].city: Singapore"
    )
    assert (doc.file_type, doc.encoding) == ("json", "utf-8")


def test_top_level_object_and_scalars() -> None:
    assert parse_bytes(b'{"a": {"b": {"c": 1.5}}, "d": [[1, 2], [3]]}', "json").text == (
        "a.b.c: 1.5\nd[0]: 1, 2\nd[1]: 3"
    )
    assert parse_bytes(b'"just a string"', "json").text == "just a string"
    assert parse_bytes(b'["one", 2, null, "three"]', "json").text == "one\n\n2\n\nthree"


@pytest.mark.parametrize("codec", ["utf-16", "gbk", "big5"])
def test_encodings(codec: str) -> None:
    record = {
        "公司": "台積電",
        "說明": "全球最大的專業積體電路製造服務公司，總部位於新竹科學園區。",
    }
    data = json.dumps(record, ensure_ascii=False).encode(codec)
    assert parse_bytes(data, "json").text == (
        "公司: 台積電\n說明: 全球最大的專業積體電路製造服務公司，總部位於新竹科學園區。"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a": [1, 2,', "JSON is not valid: Expecting value at line 1 column 13"),
        (
            b'{\n  "a": 1,\n}',
            "JSON is not valid: Expecting property name enclosed in double quotes "
            "at line 3 column 1",
        ),
        (b"This is plain text, not JSON.", "JSON is not valid: Expecting value at line 1 column 1"),
    ],
)
def test_invalid_json_says_where(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableFileError) as excinfo:
        parse_bytes(data, "json")
    assert str(excinfo.value) == message


def test_hostile_nesting_is_refused() -> None:
    with pytest.raises(UnreadableFileError, match=r"^JSON is not valid: it is nested too deeply$"):
        parse_bytes(b"[" * 100_000 + b"]" * 100_000, "json")


def test_deep_but_loadable_nesting_renders_without_recursion() -> None:
    value: object = "bottom"
    for _ in range(600):
        value = {"k": value}
    assert render_lines(value) == [".".join(["k"] * 600) + ": bottom"]


def test_huge_integer_is_reported() -> None:
    with pytest.raises(
        UnreadableFileError, match=r"^JSON is not valid: it holds a number too long to read$"
    ):
        parse_bytes(b"[" + b"9" * 5000 + b"]", "json")


@pytest.mark.parametrize("data", [b"{}", b"[]", b'[{}, {"a": null}, ""]'])
def test_json_without_values_is_empty(data: bytes) -> None:
    with pytest.raises(EmptyDocumentError, match=r"^JSON contains no values$"):
        parse_bytes(data, "json")


def test_binary_json_is_unreadable() -> None:
    with pytest.raises(UnreadableFileError, match=r"^file is not text"):
        parse_bytes(b'{"a": "\x00\x01\x02"}' * 20, "json")
