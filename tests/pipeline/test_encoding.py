"""decode_bytes and decode_declared: BOMs, UTF-8, Big5/GBK, declared charsets, binary data."""

from __future__ import annotations

import codecs
import random

import pytest

from aibox.errors import UnreadableFileError
from aibox.pipeline.encoding import decode_bytes, decode_declared

# Paragraph-length samples: charset-normalizer needs about 30 Chinese characters to be reliable.
TRADITIONAL = (
    "台積電成立於1987年，總部位於新竹科學園區，是全球最大的專業積體電路製造服務公司。"
    "公司創辦人張忠謀曾任德州儀器資深副總裁，於五十六歲時創立台積電。\n"
    "國立臺灣大學創立於1928年，前身為日治時期的臺北帝國大學，是臺灣歷史最悠久的大學之一。"
)
SIMPLIFIED = (
    "阿里巴巴集团由马云于1999年在杭州创立，是中国最大的电子商务公司之一。"
    "公司旗下拥有淘宝、天猫、支付宝等知名品牌，业务覆盖全球两百多个国家和地区。\n"
    "华为技术有限公司成立于1987年，总部位于广东省深圳市龙岗区，是全球领先的信息与通信基础设施提供商。"
)
BIG5_NAMES = {"big5", "cp950", "big5hkscs"}
GBK_NAMES = {"gbk", "gb18030", "gb2312"}


def test_empty_input_is_empty_utf8_text() -> None:
    assert decode_bytes(b"") == ("", "utf-8")


def test_plain_utf8() -> None:
    assert decode_bytes("héllo 台積電\n".encode()) == ("héllo 台積電\n", "utf-8")


@pytest.mark.parametrize(
    ("bom", "codec", "expected_name"),
    [
        (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32-be"),
    ],
)
def test_bom_decides_the_encoding_and_is_stripped(
    bom: bytes, codec: str, expected_name: str
) -> None:
    text = "Hello, world.\n" + TRADITIONAL
    assert decode_bytes(bom + text.encode(codec)) == (text, expected_name)


def test_python_utf16_codec_output_round_trips() -> None:
    # "utf-16" writes a BOM in native order, the way most editors save UTF-16.
    text = "plain ASCII has NUL bytes in UTF-16\n" + SIMPLIFIED
    assert decode_bytes(text.encode("utf-16"))[0] == text


@pytest.mark.parametrize("text", [TRADITIONAL, TRADITIONAL.split("\n")[0]])
def test_big5_round_trip(text: str) -> None:
    decoded, encoding = decode_bytes(text.encode("big5"))
    assert decoded == text
    assert encoding in BIG5_NAMES


@pytest.mark.parametrize(
    "text", [SIMPLIFIED, SIMPLIFIED.split("\n")[0], TRADITIONAL, TRADITIONAL.split("\n")[-1]]
)
def test_gbk_round_trip(text: str) -> None:
    decoded, encoding = decode_bytes(text.encode("gbk"))
    assert decoded == text
    assert encoding in GBK_NAMES


def test_newlines_are_normalised() -> None:
    assert decode_bytes(b"a\r\nb\rc\n\r\nd")[0] == "a\nb\nc\n\nd"
    assert decode_bytes("一\r\n二\r三".encode("utf-16"))[0] == "一\n二\n三"
    assert decode_bytes(("第一行\r\n" + SIMPLIFIED).encode("gbk"))[0] == "第一行\n" + SIMPLIFIED


def test_only_a_leading_bom_character_is_stripped() -> None:
    assert decode_bytes("\ufeffa\ufeffb".encode())[0] == "a\ufeffb"


def test_tabs_and_form_feeds_are_text() -> None:
    text = "col1\tcol2\tcol3\n\f" * 50
    assert decode_bytes(text.encode()) == (text, "utf-8")


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"%!\x00\x00\x01binary", "NUL bytes"),
        (b"GIF\x00" + bytes(range(256)), "NUL bytes"),
        ("ascii text, UTF-16 without a BOM".encode("utf-16-le"), "NUL bytes"),
        (codecs.BOM_UTF16_LE + "a\x00b".encode("utf-16-le"), "NUL bytes"),
        (bytes(range(1, 32)) * 10, "control characters"),
        (b"text" + b"\x01\x02\x03\x04\x05\x06" * 20 + b"more text", "control characters"),
    ],
)
def test_binary_data_is_rejected_with_a_clear_message(data: bytes, detail: str) -> None:
    with pytest.raises(UnreadableFileError, match=f"^file is not text: .*{detail}"):
        decode_bytes(data)


def test_random_bytes_are_rejected() -> None:
    data = bytes(b for b in random.Random(0).randbytes(8192) if b)[:4096]
    with pytest.raises(UnreadableFileError, match=r"^file is not text"):
        decode_bytes(data)


def test_corrupt_utf16_after_bom_is_rejected() -> None:
    with pytest.raises(UnreadableFileError, match="UTF-16-LE byte-order mark"):
        decode_bytes(codecs.BOM_UTF16_LE + "abc".encode("utf-16-le") + b"\x00")


@pytest.mark.parametrize(
    ("text", "charset", "codec", "expected_name"),
    [
        (TRADITIONAL, "big5", "big5", "cp950"),
        (TRADITIONAL, "BIG5", "big5", "cp950"),
        (SIMPLIFIED, "gb2312", "gbk", "gbk"),
        (SIMPLIFIED, "GBK", "gbk", "gbk"),
        (TRADITIONAL, "utf-8", "utf-8", "utf-8"),
        ("café crème", "iso-8859-1", "latin-1", "cp1252"),
    ],
)
def test_decode_declared_honours_a_clean_declaration(
    text: str, charset: str, codec: str, expected_name: str
) -> None:
    data = text.replace("\n", "\r\n").encode(codec)
    assert decode_declared(data, charset) == (text, expected_name)


@pytest.mark.parametrize(
    ("data", "charset"),
    [
        (SIMPLIFIED.encode("gbk"), "utf-8"),  # declared wrongly: the bytes are not UTF-8
        (b"plain", "no-such-charset"),
        (b"plain", "utf-16"),  # ASCII-compatible bytes cannot be UTF-16
        (codecs.BOM_UTF8 + b"text", "big5"),  # the byte-order mark wins
        (b"text\x00with NUL", "utf-8"),
        (b"\x01\x02\x03\x04 controls", "utf-8"),
    ],
)
def test_decode_declared_refuses_what_does_not_decode_cleanly(data: bytes, charset: str) -> None:
    assert decode_declared(data, charset) is None
