"""Decode a text file's bytes: byte-order mark, then strict UTF-8, then charset-normalizer.

Detection of legacy encodings (Big5, GBK, Shift-JIS, ...) is statistical. charset-normalizer
recognises Big5 and GBK reliably from about 30 Chinese characters (60 bytes) of running text;
shorter samples can be mistaken for Korean or Japanese code pages. Real documents are far longer,
and the tests rely on paragraph-length samples (two sentences or more).

UTF-16 and UTF-32 are accepted only with a byte-order mark: without one, their NUL bytes are
indistinguishable from binary data and the file is rejected as binary.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from aibox.errors import UnreadableFileError

# UTF-32 LE must be tried before UTF-16 LE: its BOM starts with the UTF-16 LE BOM.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# BOM-less UTF-16/32 is refused (see the module docstring), so charset-normalizer must not
# guess it either: it otherwise reads short GBK text as UTF-16-BE.
_EXCLUDED_GUESSES = ["utf_16", "utf_16_le", "utf_16_be", "utf_32", "utf_32_le", "utf_32_be"]

# C0 control characters that do not occur in text; \t \n \r \f (and \v, ESC for ANSI colours)
# do, so they are not counted.
_CONTROL_CHARS = tuple(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r\f\v\x1b")
# One scan for all of them: 2x faster than a str.count per character on real documents.
_CONTROLS = re.compile("[" + re.escape("".join(_CONTROL_CHARS)) + "]")
_MAX_CONTROL_RATIO = 0.05

_WHATWG_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "gb2312": "gbk",
    "big5": "cp950",
    "x-sjis": "shift_jis",
}

_NUL_MESSAGE = "file is not text: it contains binary data (NUL bytes)"
_CONTROL_MESSAGE = "file is not text: it contains binary data (control characters)"
_UNKNOWN_MESSAGE = "file is not text: its bytes match no known text encoding"


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode ``data`` to text with ``\\n`` newlines; return ``(text, encoding name)``."""
    if not data:
        return "", "utf-8"
    decoded = _decode_with_bom(data)
    if decoded is None:
        if b"\x00" in data:
            raise UnreadableFileError(_NUL_MESSAGE)
        decoded = _decode_without_bom(data)
    text, encoding = decoded
    _reject_control_characters(text)
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return text, encoding


def decode_declared(data: bytes, charset: str) -> tuple[str, str] | None:
    """Decode ``data`` as the charset a document declares; None when it does not decode cleanly.

    A byte-order mark overrides the declaration, as in browsers; so do WHATWG's aliases
    (``iso-8859-1`` means windows-1252, ``gb2312`` means GBK, ``big5`` means its superset cp950).
    """
    if _decode_with_bom(data) is not None:
        return None
    label = charset.strip().lower()
    try:
        encoding = codecs.lookup(_WHATWG_ALIASES.get(label, label)).name
    except LookupError:
        return None
    if encoding.startswith(("utf-16", "utf-32")):
        return None  # a declaration in ASCII-compatible bytes cannot be right about these
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    if "\x00" in text or _count_controls(text) > _MAX_CONTROL_RATIO * len(text):
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def _decode_with_bom(data: bytes) -> tuple[str, str] | None:
    """Decode by the byte-order mark, or return None when there is none."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                # Decoding with the endian-specific codec keeps the BOM as U+FEFF; it is
                # stripped by the caller. utf-8-sig strips it itself.
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                label = encoding.removesuffix("-sig").upper()
                raise UnreadableFileError(
                    f"file starts with a {label} byte-order mark but is not valid {label} "
                    f"(corrupt or truncated at byte {exc.start})"
                ) from exc
    return None


def _decode_without_bom(data: bytes) -> tuple[str, str]:
    """Decode as strict UTF-8, else as the encoding charset-normalizer finds most plausible."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_exclusion=_EXCLUDED_GUESSES).best()
    if best is None:
        raise UnreadableFileError(_UNKNOWN_MESSAGE)
    return str(best), codecs.lookup(best.encoding).name


def _reject_control_characters(text: str) -> None:
    """Raise when ``text`` holds NULs or too many control characters to be a text file."""
    if "\x00" in text:
        raise UnreadableFileError(_NUL_MESSAGE)
    if _count_controls(text) > _MAX_CONTROL_RATIO * len(text):
        raise UnreadableFileError(_CONTROL_MESSAGE)


def _count_controls(text: str) -> int:
    return sum(1 for _ in _CONTROLS.finditer(text))
