"""normalise_key and the Traditional → Simplified conversion with offset alignment."""

from __future__ import annotations

from typing import Any

import pytest

from aibox.pipeline.graph import normalise
from aibox.pipeline.graph.normalise import (
    normalise_key,
    original_span,
    to_simplified,
    to_simplified_aligned,
)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("台積電", "台积电"),
        ("Apple Inc.", "apple inc."),
        ("  Bank   of\tAmerica ", "bank of america"),
        ("ＡＰＰＬＥ", "apple"),  # full-width letters (NFKC)
        ("國立臺灣大學", "国立台湾大学"),
        ("STRASSE", "straße"),  # case folding, not lower()
    ],
)
def test_equivalent_names_share_a_key(first: str, second: str) -> None:
    assert normalise_key(first) == normalise_key(second)


def test_different_names_keep_different_keys() -> None:
    assert normalise_key("Apple") != normalise_key("Apple Inc.")
    assert normalise_key("台北") != normalise_key("台中")


def test_key_is_simplified_and_folded() -> None:
    assert normalise_key(" 台灣積體電路製造公司 ") == "台湾积体电路制造公司"
    assert normalise_key("Tim  COOK") == "tim cook"


def test_conversion_usually_keeps_every_character_in_place() -> None:
    text = "張忠謀於1987年創辦台灣積體電路製造公司，總部位於新竹。"
    simplified, owners = to_simplified_aligned(text)
    assert simplified == "张忠谋于1987年创办台湾积体电路制造公司，总部位于新竹。"
    assert owners is None
    assert original_span(owners, 2, 5) == (2, 5)


class _Expanding:
    """A converter whose output is longer than its input: 灣 becomes two characters."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def convert(self, text: str) -> str:
        return str(self.real.convert(text)).replace("湾", "湾湾")


def test_length_changing_conversion_is_aligned_per_character(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = normalise.load_converter()
    monkeypatch.setattr(normalise, "load_converter", lambda: _Expanding(real))
    text = "台灣積體電路在新竹"
    simplified, owners = to_simplified_aligned(text)
    assert simplified == "台湾湾积体电路在新竹"
    assert owners is not None
    start = simplified.index("新竹")
    assert original_span(owners, start, start + 2) == (7, 9)
    # A span covering both halves of an expansion maps to the one source character.
    assert original_span(owners, 0, 3) == (0, 2)


def test_lone_surrogates_do_not_break_conversion() -> None:
    assert to_simplified("台灣\ud800積體") == "台湾\ud800积体"
    assert normalise_key("臺\udc80") == "台\udc80"
