"""What the faster relation extraction and typing rely on, and output pinned across the rewrite.

Relation typing tries the trigger lexicon only where a trigger can start (``_TRIGGER_AT_START``),
and sentence splitting trims with ``str.strip`` and a reordered boundary pattern. The expected
sentence spans are what ``split_sentences`` returned before that change.
"""

from __future__ import annotations

import pytest

from aibox.pipeline.graph.heuristic import triggers
from aibox.pipeline.graph.heuristic.trigger_lexicon import RULES, TRIGGER
from aibox.pipeline.sentences import split_sentences

TRIGGER_WORDS = [
    "born in",
    "native of",
    "co-founded",
    "founders",
    "set up",
    "headquartered in",
    "-based",
    "moved to",
    "acquisition of",
    "took over",
    "CEO",
    "chief executive officer",
    "vice president",
    "Deputy Head",
    "partnered with",
    "joint ventures",
    "works at",
    "teaches at",
    "出生于",
    "創辦人",
    "总部位于",
    "收購",
    "副董事长",
    "合作",
    "任职于",
]
# What may stand right before or after a trigger: nothing, space, letters of several scripts
# (the Kelvin sign folds to "k"), a digit, punctuation and a Chinese character.
BEFORE = ["", " ", "x", "X", "é", "\u212a", "1", "_", "-", "中", "。"]
AFTER = ["", " ", "s", "中", ".", "-"]


@pytest.mark.parametrize("word", TRIGGER_WORDS)
def test_triggers_found_only_where_they_may_start_are_all_triggers(word: str) -> None:
    for before in BEFORE:
        for after in AFTER:
            text = f"Acme {before}{word}{after} Apple and {word} Bob"
            expected = [(m.span(), m.lastgroup) for m in TRIGGER.finditer(text)]
            found = [(m.span(), m.lastgroup) for m in triggers._TRIGGER_AT_START.finditer(text)]
            assert found == expected, text


def test_every_trigger_is_a_whole_english_word_or_chinese() -> None:
    # _TRIGGER_AT_START skips positions after an ASCII letter unless a Chinese trigger may start.
    for rule in RULES:
        for pattern in filter(None, (rule.verbs, rule.titles)):
            english, chinese = pattern.split("(?![A-Za-z])|")
            assert english.startswith("(?<![A-Za-z])(?:"), rule.type
            assert all(not word[0].isascii() for word in chinese.split("|")), rule.type


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        (
            "!? Yes. Dr. Who?! 。。」Next…… one\n \nU.S. e.g. x",
            [(0, 2), (3, 7), (8, 17), (18, 21), (21, 27), (28, 31), (34, 45)],
        ),
        ("\u3000 Hello there. \x85\x1cNext one.\u2028", [(2, 14), (17, 26)]),
        ('..?" Up. A. B.\u00a0c', [(0, 4), (5, 8), (9, 16)]),
    ],
)
def test_sentence_spans_are_pinned(text: str, spans: list[tuple[int, int]]) -> None:
    assert split_sentences(text) == spans
