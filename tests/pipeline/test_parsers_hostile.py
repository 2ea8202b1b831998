"""The parsers' guards against hostile input, without a server (the e2e side: tests/api)."""

from __future__ import annotations

import codecs

import pytest

from aibox.errors import UnreadableFileError
from aibox.pipeline.parsers import parse_bytes
from aibox.pipeline.parsers.html_markup import MAX_ATTRIBUTES, limit_markup
from aibox.pipeline.parsers.sniff import looks_like_utf16_without_bom
from aibox.pipeline.sentences import split_sentences
from tests.api import hostile_inputs

N = 3 * MAX_ATTRIBUTES


def _attributes(markup: str) -> int:
    from selectolax.lexbor import LexborHTMLParser

    node = LexborHTMLParser(markup).css_first("p")
    assert node is not None
    return len(node.attributes)


@pytest.mark.parametrize(
    "markup",
    [
        "<p " + " ".join(f'a{i}="v"' for i in range(N)) + ">kept text</p>",
        # A ">" inside a quoted value does not end the tag, for lexbor nor for the guard.
        '<p title="x>y" ' + " ".join(f"a{i}" for i in range(N)) + ">kept text</p>",
        # "<" inside a tag is part of an attribute name, not a new tag.
        "<p " + " ".join(f"<a{i}" for i in range(N)) + ">kept text</p>",
    ],
)
def test_tags_with_too_many_attributes_are_trimmed(markup: str) -> None:
    limited = limit_markup(markup)
    assert _attributes(limited) == MAX_ATTRIBUTES
    assert parse_bytes(markup.encode(), "html").text == "kept text"


def test_ordinary_and_long_but_few_attribute_tags_are_left_alone() -> None:
    path = "M 0 0 " + "L 1 1 " * 5000  # one long attribute full of spaces
    markup = (
        f'<p class="a b" data-x=\'1\' hidden>x</p><svg><path d="{path}"/></svg>'
        f'<img alt="a>b" src="data:,{"z" * 10_000}"><p>text</p>'
    )
    assert limit_markup(markup) == markup


def test_unclosed_tag_runs_are_handled() -> None:
    markup = "<p>before</p>" + "<a" * 200_000 + " tail"
    assert limit_markup(markup).startswith("<p>before</p>")


def test_utf16_without_bom_gets_a_message_that_says_so() -> None:
    data = hostile_inputs.utf16_without_bom()
    assert looks_like_utf16_without_bom(data)
    assert looks_like_utf16_without_bom("Big endian text here.".encode("utf-16-be"))
    assert not looks_like_utf16_without_bom(codecs.BOM_UTF16_LE + data)
    assert not looks_like_utf16_without_bom(bytes(range(256)) * 4)
    with pytest.raises(UnreadableFileError, match="UTF-16 without a byte-order mark"):
        parse_bytes(data, "txt")
    # With its byte-order mark the same text is read.
    assert "Grace Hopper" in parse_bytes(codecs.BOM_UTF16_LE + data, "txt").text


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (hostile_inputs.docx_billion_laughs, "entity bomb"),
        (hostile_inputs.docx_lying_sizes, "zip archive is corrupt (Bad CRC-32"),
        (hostile_inputs.docx_without_content_types, "a part it needs is missing"),
    ],
)
def test_hostile_docx_fails_with_a_message_about_the_file(make: object, message: str) -> None:
    assert callable(make)
    with pytest.raises(UnreadableFileError) as caught:
        parse_bytes(make(), "docx")
    assert message in str(caught.value)
    assert "Error" not in str(caught.value)


def test_xxe_in_docx_reads_no_local_file() -> None:
    text = parse_bytes(hostile_inputs.docx_xxe(), "docx").text
    assert "Marie Curie" in text
    assert not any(marker in text for marker in hostile_inputs.PASSWD)


def test_long_runs_of_sentence_marks_split_in_linear_time() -> None:
    # Quadratic before: 40k dots took 50 s; this would take well over the test timeout.
    text = "Contents " + "." * 500_000 + " 5. Next sentence! Wow?! Yes... " + "!?" * 200_000
    spans = [text[a:b] for a, b in split_sentences(text)]
    assert spans[0] == "Contents " + "." * 500_000
    assert spans[1:5] == ["5.", "Next sentence!", "Wow?!", "Yes..."]
