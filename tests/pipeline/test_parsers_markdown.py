"""Markdown parser: ATX and setext headings, code fences and front matter are not headings."""

from __future__ import annotations

from aibox.pipeline.parsers import parse_bytes
from aibox.pipeline.parsers.markdown import markdown_headings


def _headings(text: str) -> list[str]:
    return [text[a:b] for a, b in markdown_headings(text)]


def test_atx_and_setext_headings() -> None:
    text = (
        "# Title\n\nIntro.\n\n## Section one ##\ntext\n\n   ### Indented\n\n"
        "Setext one\n==========\n\nBody.\n\nSetext two\n---\n\n#hashtag is not a heading\n"
        "####### seven is not either\n#\n"
    )
    assert _headings(text) == [
        "# Title",
        "## Section one ##",
        "### Indented",
        "Setext one\n==========",
        "Setext two\n---",
        "#",
    ]


def test_code_fences_front_matter_and_rules_are_not_headings() -> None:
    text = (
        "---\ntitle: Notes\n---\n\n# Real\n\n```bash\n# a shell comment\necho hi\n---\n```\n\n"
        "~~~\n# also code\n~~~\n\n- item\n---\n\n---\n\n| a | b |\n---\n\n    indented code\n---\n"
    )
    assert _headings(text) == ["# Real"]


def test_parse_markdown_records_headings_and_keeps_text() -> None:
    text = "# 標題\n\n台積電成立於1987年。\n\n副標題\n---\n\n內容。\n"
    doc = parse_bytes(text.encode(), "md")
    assert doc.text == text
    assert [doc.text[a:b] for a, b in doc.headings] == ["# 標題", "副標題\n---"]


def test_plain_text_has_no_headings() -> None:
    assert parse_bytes(b"# not a heading in txt\n\nBody.", "txt").headings == ()
