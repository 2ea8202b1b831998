"""HTML parser: real pages, navigation and scripts left out, structure, charsets, deep nesting."""

from __future__ import annotations

import codecs
import pathlib

import pytest

from aibox.errors import EmptyDocumentError, UnreadableFileError
from aibox.pipeline.parsers import parse_bytes
from aibox.pipeline.parsers.html import MAX_DEPTH
from aibox.pipeline.parsers.html_markup import limit_markup

DOCS = pathlib.Path(__file__).resolve().parents[1] / "data" / "docs"

ZH = "台積電成立於1987年，總部位於新竹科學園區，是全球最大的專業積體電路製造服務公司。"


def _fixture(name: str) -> tuple[bytes, str]:
    data = (DOCS / name).read_bytes()
    return data, parse_bytes(data, "html").text


def test_python_tutorial_page() -> None:
    data, text = _fixture("python-tutorial-appetite.html")
    assert text.startswith("1. Whetting Your Appetite\n\nIf you do much work on computers, ")
    assert "\n\nPython is just the language for you.\n\n" in text
    assert "“Monty Python’s Flying Circus”" in text
    # List items keep their line structure.
    assert "no variable or argument declarations are necessary." in text
    # Sidebar, related-links bars, search form, footer, inline style and permalink marks exist
    # in the page but not in the text.
    for chrome in (
        "Previous topic",
        "Quick search",
        "Report a Bug",
        "3.11.2 Documentation",
        "Copyright",
        "full-width-table",
        "¶",
    ):
        assert chrome.encode() in data
        assert chrome not in text


def test_python_tutorial_headings_and_code() -> None:
    _, text = _fixture("python-tutorial-classes.html")
    doc = parse_bytes((DOCS / "python-tutorial-classes.html").read_bytes(), "html")
    headings = [doc.text[a:b] for a, b in doc.headings]
    assert headings[:3] == [
        "9. Classes",
        "9.1. A Word About Names and Objects",
        "9.2. Python Scopes and Namespaces",
    ]
    assert "9.2.1. Scopes and Namespaces Example" in headings
    assert all(doc.text[a - 2 : a] == "\n\n" for a, _ in doc.headings[1:])
    # Preformatted code keeps its lines and indentation.
    assert 'def scope_test():\n    def do_local():\n        spam = "local spam"' in text


def test_traditional_chinese_docbook_page() -> None:
    data, text = _fixture("debian-reference-ch04.zh-tw.html")
    assert "\n\n當使用者（或程式）需要存取系統時，需要進行認證，確認身份是受信任。\n\n" in text
    lines = text.split("\n")
    assert "檔案 | 許可權 | 使用者 | 組 | 說明" in lines
    assert "/etc/passwd | -rw-r--r-- | root | root | （明文的）使用者帳號資訊" in lines
    # DocBook's navigation header and footer and the table of contents are left out.
    for chrome in ("章 3. 系統初始化", "章 5. 網絡設置", "內容目錄"):
        assert chrome.encode() in data
        assert chrome not in text
    doc = parse_bytes(data, "html")
    headings = [doc.text[a:b] for a, b in doc.headings]
    assert headings[:2] == ["章 4. 認證和訪問控制", "4.1. 一般的 Unix 認證"]
    assert doc.metadata["title"] == "章 4. 認證和訪問控制"


def test_blocks_whitespace_and_tables() -> None:
    html = (
        "<html><head><title>T</title><style>p {color: red}</style></head><body>"
        "<nav>Home | About</nav><header>Site banner</header>"
        "<h1>  Main\n title </h1><p>First   line\n  continues.<br>Second line.</p>"
        "<div>One</div><div>Two <b>bold</b><i>italic</i></div>"
        "<ul><li>a</li><li>b</li></ul>"
        "<table><tr><th>k</th><th></th><th>v</th></tr><tr><td><p>x</p><p>y</p></td><td>z</td></tr>"
        "</table><script>var secret = 1;</script><div hidden>hidden text</div>"
        "<span aria-hidden='true'>icon</span><div role='navigation'>crumbs</div>"
        "<div class='sphinxsidebar x'>side</div><article><header><h2>Post</h2></header>"
        "<p>Body&nbsp;text &amp; more</p><footer>post footer</footer></article>"
        "<footer>page footer</footer><form>search box</form><svg><text>chart</text></svg>"
        "</body></html>"
    )
    doc = parse_bytes(html.encode(), "html")
    assert doc.text == (
        "Main title\n\nFirst line continues.\nSecond line.\n\nOne\nTwo bolditalic\n\n"
        "a\nb\n\nk | v\nx y | z\n\nPost\n\nBody text & more\n\npost footer"
    )
    assert [doc.text[a:b] for a, b in doc.headings] == ["Main title", "Post"]
    assert doc.metadata == {"title": "T"}


def test_hundred_thousand_nested_divs() -> None:
    depth = 100_000
    html = b"<html><body>" + b"<div>" * depth + b"deep text" + b"</div>" * depth + b"<p>after</p>"
    doc = parse_bytes(html, "html")
    assert doc.text == "deep text\n\nafter"


def test_nesting_just_within_the_limit_keeps_its_structure() -> None:
    depth = MAX_DEPTH - 10
    html = b"<body>" + b"<div>a" * depth + b"</div>" * depth
    assert parse_bytes(html, "html").text == "\n".join(["a"] * depth)


@pytest.mark.parametrize("codec", ["big5", "cp950"])
def test_declared_big5_charset_is_honoured(codec: str) -> None:
    html = f'<html><head><meta charset="{codec}"></head><body><p>{ZH}</p></body></html>'
    doc = parse_bytes(html.encode("big5"), "html")
    assert doc.text == ZH
    assert doc.encoding == "cp950"


def test_http_equiv_charset_and_latin1() -> None:
    html = (
        '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">'
        "<p>caf\xe9 cr\xe8me br\xfbl\xe9e</p>"
    )
    doc = parse_bytes(html.encode("latin-1"), "html")
    assert doc.text == "café crème brûlée"
    assert doc.encoding == "cp1252"


def test_wrong_declared_charset_falls_back_to_detection() -> None:
    paragraphs = "".join(f"<p>{ZH}</p>" for _ in range(3))
    html = f'<html><head><meta charset="utf-8"></head><body>{paragraphs}</body></html>'
    doc = parse_bytes(html.encode("gbk"), "html")
    assert doc.text == "\n\n".join([ZH] * 3)
    assert doc.encoding in {"gbk", "gb18030", "gb2312"}


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (codecs.BOM_UTF16_LE + f"<p>{ZH}</p>".encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF8 + f'<meta charset="big5"><p>{ZH}</p>'.encode(), "utf-8-sig"),
        (f"<p>{ZH}</p><p>{ZH}</p>".encode("big5"), "big5"),
    ],
    ids=["utf16-bom", "bom-beats-meta", "undeclared-big5"],
)
def test_undeclared_or_bom_encodings(data: bytes, encoding: str) -> None:
    doc = parse_bytes(data, "html")
    assert doc.text.startswith(ZH)
    assert doc.encoding == encoding


def test_html_that_is_plain_text_still_parses() -> None:
    assert parse_bytes(b"Just a note,\n  no markup.", "html").text == "Just a note, no markup."


def test_binary_html_is_unreadable() -> None:
    with pytest.raises(UnreadableFileError, match=r"^file is not text"):
        parse_bytes(b"<html>\x00\x01\x02\x03" * 50, "html")


@pytest.mark.parametrize(
    "html",
    [b"<html><body></body></html>", b"<script>only()</script>", b"<nav>menu</nav>  \n"],
)
def test_page_without_visible_text_is_empty(html: bytes) -> None:
    with pytest.raises(EmptyDocumentError, match=r"^HTML page contains no visible text$"):
        parse_bytes(html, "html")


def test_unclosed_tag_with_a_huge_name_is_scanned_once() -> None:
    # Enough tags for the depth guard to look at them all, then "<a" and a megabyte of letters
    # with no ">". A tag pattern that backtracks over the name rescans the rest of the markup
    # for every letter: about an hour here, so pytest's timeout fails it.
    markup = "<p>x</p>" * 2000 + "<a" + "b" * 1_000_000
    assert limit_markup(markup) == markup
    assert parse_bytes(markup.encode(), "html").text == "\n\n".join(["x"] * 2000)


def test_a_sidebar_of_links_is_navigation_a_sidebar_of_prose_is_content() -> None:
    # The second box is shaped like the Debian handbook's (DocBook) TIP boxes.
    html = (
        "<body><div class='sidebar'><a href='/'>Home</a> <a href='/a'>Archive</a></div>"
        "<p>Body.</p><div class='sidebar'><a id='sidebar.tip'></a><p><b>TIP</b> Run "
        "<a href='#x'>apt</a> with --simulate first to see what would change.</p></div></body>"
    )
    doc = parse_bytes(html.encode(), "html")
    assert doc.text == "Body.\n\nTIP Run apt with --simulate first to see what would change."
