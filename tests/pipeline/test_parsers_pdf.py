"""PDF parser: real printed documents, pages, and damaged, encrypted or text-less files."""

from __future__ import annotations

import io
import pathlib

import pytest
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import NameObject

from aibox.errors import EmptyDocumentError, UnreadableFileError, UnsupportedFileTypeError
from aibox.pipeline.parsers import parse_bytes
from aibox.pipeline.parsers import pdf as pdf_parser
from aibox.pipeline.parsers.pdf import clean_page_text, parse_pdf

DOCS = pathlib.Path(__file__).resolve().parents[1] / "data" / "docs"
APPETITE = DOCS / "python-tutorial-appetite.pdf"
ZH_TW = DOCS / "debian-reference-ch04.zh-tw.pdf"


def _write(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _encrypted(user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(APPETITE))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    return _write(writer)


def test_english_pdf_text_and_pages() -> None:
    doc = parse_bytes(APPETITE.read_bytes(), "pdf")
    assert doc.file_type == "pdf"
    assert doc.text.startswith("1. Whetting Your Appetite\nIf you do much work on computers")
    assert "Python is just the language for you." in doc.text
    assert "It is also a handy desk calculator." in doc.text
    assert [number for _, number in doc.pages] == [1, 2]
    assert doc.pages[0][0] == 0
    page_two = doc.pages[1][0]
    assert doc.text[page_two:].startswith("By the way, the language is named after the BBC show")
    assert doc.text[page_two - 2 : page_two] == "\n\n"
    assert doc.metadata["page_count"] == "2"
    assert doc.metadata["title"].startswith("1. Whetting Your Appetite")


def test_printed_page_leaves_out_the_hidden_navigation() -> None:
    text = parse_bytes(APPETITE.read_bytes(), "pdf").text
    for chrome in ("Previous topic", "Quick search", "Show Source", "documentation_options"):
        assert chrome not in text


def test_traditional_chinese_pdf() -> None:
    doc = parse_bytes(ZH_TW.read_bytes(), "pdf")
    assert "當使用者（或程式）需要存取系統時，需要進行認證，確認身份是受信任。" in doc.text
    assert "".join("一般的 Unix 認證由 PAM".split()) in "".join(doc.text.split())
    assert [number for _, number in doc.pages] == [1, 2]
    offsets = [offset for offset, _ in doc.pages]
    assert offsets == sorted(set(offsets))
    assert not any("\u2f00" <= char <= "\u2fd5" for char in doc.text)


def test_kangxi_radicals_from_cjk_fonts_become_ideographs() -> None:
    # Noto Sans CJK maps 用 and 一 to glyphs that printers record as radicals U+2F64, U+2F00.
    assert clean_page_text("使\u2f64者\u2f00般\r\n") == "使用者一般"
    assert clean_page_text("a\x00b\x07c  \n\n d\t") == "abc\n\n d"


def test_truncated_pdf_is_damaged() -> None:
    data = APPETITE.read_bytes()
    for fraction in (0.1, 0.5, 0.9):
        with pytest.raises(UnreadableFileError, match=r"^PDF is damaged or truncated: \S"):
            parse_bytes(data[: int(len(data) * fraction)], "pdf")


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n", b"%PDF-1.4\n" + bytes(range(256)) * 40, b"%PDF-1.4\n1 0 obj\n<< /Type"],
)
def test_corrupt_pdf_is_damaged_with_a_short_reason(data: bytes) -> None:
    with pytest.raises(UnreadableFileError) as excinfo:
        parse_bytes(data, "pdf")
    message = str(excinfo.value)
    assert message.startswith("PDF is damaged or truncated: ")
    assert "\n" not in message
    assert "Traceback" not in message
    assert len(message) < 200


def test_password_protected_pdf_is_refused() -> None:
    with pytest.raises(UnreadableFileError) as excinfo:
        parse_bytes(_encrypted("secret"), "pdf")
    assert str(excinfo.value) == (
        "PDF is encrypted (password-protected); remove the password and upload again"
    )


def test_pdf_encrypted_with_an_empty_user_password_opens() -> None:
    doc = parse_bytes(_encrypted(""), "pdf")
    assert "Python is just the language for you." in doc.text


def test_aes_encrypted_pdfs_open_with_an_empty_password_and_refuse_a_real_one() -> None:
    # pypdf decrypts AES through "cryptography", a dependency (pypdf[crypto]).
    for algorithm in ("AES-128", "AES-256"):
        opened = PdfWriter(clone_from=PdfReader(APPETITE))
        opened.encrypt(user_password="", owner_password="owner", algorithm=algorithm)
        assert "Python is just the language for you." in parse_bytes(_write(opened), "pdf").text
        locked = PdfWriter(clone_from=PdfReader(APPETITE))
        locked.encrypt(user_password="secret", owner_password="owner", algorithm=algorithm)
        with pytest.raises(UnreadableFileError, match=r"^PDF is encrypted \(password"):
            parse_bytes(_write(locked), "pdf")


def test_pdf_without_a_text_layer_is_empty() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_blank_page(width=595, height=842)
    with pytest.raises(EmptyDocumentError) as excinfo:
        parse_bytes(_write(writer), "pdf")
    assert "no text layer" in str(excinfo.value)
    assert "OCR is not supported" in str(excinfo.value)


def test_pdf_with_no_pages_is_damaged() -> None:
    with pytest.raises(UnreadableFileError, match="it has no pages"):
        parse_bytes(_write(PdfWriter()), "pdf")


def test_page_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_parser, "MAX_PAGES", 1)
    with pytest.raises(UnreadableFileError, match=r"^PDF has 2 pages \(limit 1\); split it"):
        parse_pdf(APPETITE.read_bytes(), "pdf")


def test_png_named_pdf_is_an_unsupported_image() -> None:
    with pytest.raises(UnsupportedFileTypeError, match=r"^unsupported file type: PNG image"):
        parse_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "pdf")


def test_empty_pages_are_left_out_of_the_page_map() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    for page in PdfReader(APPETITE).pages:
        writer.add_page(page)
    doc = parse_bytes(_write(writer), "pdf")
    assert [number for _, number in doc.pages] == [2, 3]
    assert doc.pages[0][0] == 0
    assert doc.metadata["page_count"] == "3"


def test_an_unreadable_page_is_skipped_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    original = PageObject.extract_text
    calls: list[int] = []

    def first_page_breaks(page: PageObject, *args: object, **kwargs: object) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("broken content stream")
        return original(page)

    monkeypatch.setattr(PageObject, "extract_text", first_page_breaks)
    doc = parse_bytes(APPETITE.read_bytes(), "pdf")
    assert [number for _, number in doc.pages] == [2]
    assert doc.text.startswith("By the way")


def test_pdf_whose_every_page_fails_is_damaged(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(page: PageObject, *args: object, **kwargs: object) -> str:
        raise KeyError("/Resources")

    monkeypatch.setattr(PageObject, "extract_text", broken)
    with pytest.raises(UnreadableFileError) as excinfo:
        parse_bytes(APPETITE.read_bytes(), "pdf")
    assert str(excinfo.value) == (
        "PDF is damaged or truncated: its structure could not be read (KeyError)"
    )


def test_unknown_security_handler_is_reported_as_encryption() -> None:
    writer = PdfWriter(clone_from=PdfReader(APPETITE))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    entry = writer._encrypt_entry
    assert entry is not None
    entry[NameObject("/Filter")] = NameObject("/Adobe.APS")  # a DRM handler pypdf lacks
    with pytest.raises(UnreadableFileError) as excinfo:
        parse_bytes(_write(writer), "pdf")
    message = str(excinfo.value)
    assert message.startswith("PDF is encrypted with a method aibox cannot open (")
    assert message.endswith("); remove the encryption and upload again")
