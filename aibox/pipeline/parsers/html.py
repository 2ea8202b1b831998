"""Parser for HTML: the page's readable text, block structure kept, navigation and scripts left out.

The tree is walked with an explicit stack, never by recursion, so any nesting depth is safe.
lexbor itself slows down quadratically on very deep trees and on tags with very many
attributes, so those are trimmed before parsing (``html_markup``); their text stays.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from aibox.errors import EmptyDocumentError
from aibox.pipeline.encoding import decode_bytes, decode_declared
from aibox.pipeline.parsers.html_markup import MAX_ATTRIBUTES, MAX_DEPTH, limit_markup
from aibox.pipeline.types import Document

__all__ = ["MAX_ATTRIBUTES", "MAX_DEPTH", "parse_html"]

_SKIPPED_TAGS = frozenset(
    "script style noscript template nav aside form svg iframe object embed canvas audio video "
    "head".split()
)
_PAGE_CHROME_TAGS = frozenset({"header", "footer"})  # kept inside an article: its own title
_SKIPPED_ROLES = frozenset({"navigation", "search", "banner", "contentinfo", "complementary"})
# Navigation in common generators: Sphinx, DocBook, Bootstrap-like themes.
_SKIPPED_CLASSES = frozenset(
    "related sphinxsidebar footer headerlink navheader navfooter toc breadcrumb breadcrumbs "
    "navbar mobile-nav menu-wrapper skip-link".split()
)
# Navigation in a blog theme, content in DocBook (the Debian handbook's TIP and NOTE boxes):
# left out only when most of its text is link text.
_LINK_LIST_CLASSES = frozenset({"sidebar"})
_PARAGRAPH_TAGS = frozenset(
    "p pre blockquote table ul ol dl section article main figure hr address details "
    "fieldset".split()
)
_LINE_TAGS = frozenset("div li tr dt dd caption figcaption summary legend br".split())
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_CELL_TAGS = frozenset({"td", "th"})
# Newlines owed after entering or leaving a block element.
_BREAKS = dict.fromkeys(_LINE_TAGS, 1) | dict.fromkeys(_PARAGRAPH_TAGS | _HEADING_TAGS, 2)
# Every tag the text builder acts on; entering or leaving any other element (span, a, em...)
# changes nothing.
_STRUCTURAL_TAGS = _CELL_TAGS | _HEADING_TAGS | frozenset(_BREAKS)

_WHITESPACE = re.compile(r"\s+")
# <meta charset=...>, <meta http-equiv content="...; charset=...">, or an XML declaration.
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)"""
    rb"""|<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE,
)


def parse_html(data: bytes, file_type: str) -> Document:
    """Extract the readable text of the HTML page in ``data``."""
    markup, encoding = _decode(data)
    parser = LexborHTMLParser(limit_markup(markup))
    builder = _TextBuilder()
    root = parser.body or parser.root
    if root is not None:
        _walk(root, builder)
    text = "".join(builder.parts)
    if not text:
        raise EmptyDocumentError("HTML page contains no visible text")
    metadata: dict[str, str] = {}
    title = parser.css_first("title")
    if title is not None and title.text(strip=True):
        metadata["title"] = _WHITESPACE.sub(" ", title.text(strip=True))
    return Document(
        text=text,
        file_type=file_type,
        encoding=encoding,
        metadata=metadata,
        headings=tuple(builder.headings),
    )


def _decode(data: bytes) -> tuple[str, str]:
    """Decode as the charset the page declares when that decodes cleanly, else by detection."""
    match = _META_CHARSET.search(data[:4096])
    if match is not None:
        charset = (match.group(1) or match.group(2)).decode("ascii")
        decoded = decode_declared(data, charset)
        if decoded is not None:
            return decoded
    return decode_bytes(data)


def _walk(root: LexborNode, out: _TextBuilder) -> None:
    """Feed the text under ``root`` to ``out`` in document order, without recursion."""
    # The elements entered and not yet left: each one's tag, and the sibling that follows it.
    entered: list[tuple[str, LexborNode | None]] = []
    node: LexborNode | None = root
    while True:
        if node is None:  # the last child of the innermost entered element is done
            if not entered:
                return
            tag, node = entered.pop()
            out.close(tag)
            continue
        following = node.next if entered else None  # the root's siblings are not under it
        if node.is_text_node:
            out.text(node.text_content or "")
        elif node.is_element_node:
            tag = node.tag or ""
            if not _skipped(tag, node, out.article_depth > 0):
                out.open(tag)
                entered.append((tag, following))
                node = node.first_child
                continue
        node = following


def _skipped(tag: str, node: LexborNode, in_article: bool) -> bool:
    """True for elements whose text is not content: scripts, navigation, page chrome."""
    if tag in _SKIPPED_TAGS or (tag in _PAGE_CHROME_TAGS and not in_article):
        return True
    attributes = node.attributes
    if not attributes:
        return False
    if "hidden" in attributes or attributes.get("aria-hidden") == "true":
        return True
    if (attributes.get("role") or "").lower() in _SKIPPED_ROLES:
        return True
    classes = (attributes.get("class") or "").split()
    if not _SKIPPED_CLASSES.isdisjoint(classes):
        return True
    return not _LINK_LIST_CLASSES.isdisjoint(classes) and _mostly_links(node)


def _mostly_links(node: LexborNode) -> bool:
    """True when links hold at least half of the element's visible text."""
    text = len("".join(node.text(deep=True).split()))
    links = sum(len("".join(a.text(deep=True).split())) for a in node.css("a"))
    return links * 2 >= text


class _TextBuilder:
    """Collects text with collapsed whitespace, line and paragraph breaks, and heading spans."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.headings: list[tuple[int, int]] = []
        self.article_depth = 0
        self._length = 0
        self._pending_break = 0  # newlines owed before the next text
        self._pending_space = False
        self._pending_cell = False  # " | " owed before the next text
        self._row_has_text = False
        self._cell_depth = 0
        self._pre_depth = 0
        self._heading_depth = 0
        self._heading_start: int | None = None

    def open(self, tag: str) -> None:
        """Enter an element."""
        if tag not in _STRUCTURAL_TAGS:
            return
        if tag in _CELL_TAGS:
            if self._cell_depth == 0:
                self._pending_cell = self._row_has_text
            else:
                self._pending_space = True
            self._cell_depth += 1
            return
        if tag == "tr" and self._cell_depth == 0:
            self._row_has_text = False
        if tag == "article":
            self.article_depth += 1
        elif tag == "pre":
            self._pre_depth += 1
        elif tag in _HEADING_TAGS:
            self._heading_depth += 1
        self._block_break(tag)

    def close(self, tag: str) -> None:
        """Leave an element."""
        if tag not in _STRUCTURAL_TAGS:
            return
        if tag in _CELL_TAGS:
            self._cell_depth -= 1
            self._pending_space = True
            return
        if tag == "article":
            self.article_depth -= 1
        elif tag == "pre":
            self._pre_depth -= 1
            self._trim_end()
        elif tag in _HEADING_TAGS:
            self._heading_depth -= 1
            if self._heading_depth == 0 and self._heading_start is not None:
                self.headings.append((self._heading_start, self._length))
                self._heading_start = None
        self._block_break(tag)

    def text(self, raw: str) -> None:
        """Add the text of a text node."""
        if self._pre_depth:
            if raw:
                self._emit(raw)
            return
        # str.split() and str.isspace() take the same characters for whitespace as \s does.
        if raw[:1].isspace():
            self._pending_space = True
        content = " ".join(raw.split())
        if content:
            self._emit(content)
            self._pending_space = raw[-1:].isspace()

    def _block_break(self, tag: str) -> None:
        newlines = _BREAKS.get(tag, 0)
        if not newlines:
            return
        if self._cell_depth:
            self._pending_space = True
        else:
            self._pending_break = max(self._pending_break, newlines)

    def _emit(self, content: str) -> None:
        if self._length:
            if self._pending_break:
                separator = "\n" * self._pending_break
            elif self._pending_cell:
                separator = " | "
            else:
                separator = " " if self._pending_space else ""
            self.parts.append(separator)
            self._length += len(separator)
        self._pending_break, self._pending_space, self._pending_cell = 0, False, False
        if self._heading_depth and self._heading_start is None:
            self._heading_start = self._length
        if self._cell_depth:
            self._row_has_text = True
        self.parts.append(content)
        self._length += len(content)

    def _trim_end(self) -> None:
        """Drop trailing whitespace left by preformatted text."""
        while self.parts and not self.parts[-1].strip():
            self._length -= len(self.parts.pop())
        if self.parts:
            kept = self.parts[-1].rstrip()
            self._length -= len(self.parts[-1]) - len(kept)
            self.parts[-1] = kept
