"""Chinese NER from jieba POS tags, organisation-suffix rules and a surname rule.

Rules run in order and a word used by one rule is not reused: organisation suffixes (the
name-like words before 公司/集团/大学… are merged in), gazetteers, place suffixes, unknown
names (runs of single characters that start with a surname), then jieba's own tags (nr → PERSON,
ns → LOCATION, nt → ORGANIZATION). Spans index the original, possibly Traditional, text.
"""

from __future__ import annotations

import re

from aibox.pipeline.graph.heuristic import lexicon as lx
from aibox.pipeline.graph.heuristic.spans import (
    GUESS,
    LOCATION,
    MISC,
    ORGANIZATION,
    PERSON,
    RULED,
    TAGGED,
    Span,
)
from aibox.pipeline.graph.heuristic.tagger import Token, tag

_HAN = re.compile(r"^[\u4e00-\u9fff]+$")
_MAX_ORG_WORDS = 7
_GAZETTEER_PREFIXES = frozenset(
    name[:end] for name in lx.ORGS_ZH | lx.PLACES_ZH for end in range(1, len(name) + 1)
)
_ORG_SUFFIX_ENDS = frozenset(suffix[-1] for suffix in lx.ORG_SUFFIXES_ZH)
_GENERIC_WHEN_PLACE = frozenset({"公司", "有限公司"})
_NOUN_FLAGS = frozenset({"n", "nr", "nrt", "nrfg", "ns", "nt", "nz", "ng", "j", "l"})
_POS_TYPES = {
    "nr": (PERSON, TAGGED),
    "nrfg": (PERSON, TAGGED),
    "nrt": (PERSON, GUESS),
    "ns": (LOCATION, TAGGED),
    "nt": (ORGANIZATION, TAGGED),
}


def find_entities(text: str) -> list[Span]:
    """Return the entity spans of Chinese ``text``, ordered by position, never overlapping."""
    tokens = tag(text)
    used = [False] * len(tokens)
    spans: list[Span] = []
    for rule in (_organisations, _gazetteer, _places, _unknown_names, _tagged, _latin):
        spans.extend(rule(tokens, used))
    spans.sort(key=lambda span: span.start)
    return spans


def _take(tokens: list[Token], used: list[bool], first: int, last: int, kind: str, s: int) -> Span:
    for index in range(first, last + 1):
        used[index] = True
    return Span(tokens[first].start, tokens[last].end, kind, s)


def _gazetteer(tokens: list[Token], used: list[bool]) -> list[Span]:
    """Known names, also when the tagger split them into pieces (台 / 积 / 电)."""
    spans = []
    index = 0
    while index < len(tokens):
        name, last, found = "", index, None
        while last < len(tokens) and not used[last]:
            name += tokens[last].word
            if name not in _GAZETTEER_PREFIXES:
                break
            if name in lx.ORGS_ZH or name in lx.PLACES_ZH:
                found = (last, ORGANIZATION if name in lx.ORGS_ZH else LOCATION)
            last += 1
        if found is None:
            index += 1
            continue
        spans.append(_take(tokens, used, index, found[0], found[1], RULED))
        index = found[0] + 1
    return spans


def _org_suffix(word: str) -> str | None:
    if word[-1:] not in _ORG_SUFFIX_ENDS:
        return None
    return next((suffix for suffix in lx.ORG_SUFFIXES_ZH if word.endswith(suffix)), None)


def _is_known(token: Token) -> bool:
    return token.word in lx.ORGS_ZH or token.word in lx.PLACES_ZH


def _is_org_inner(token: Token) -> bool:
    inner = token.flag in lx.ORG_INNER_FLAGS_ZH or token.word in lx.ORG_INNER_WORDS_ZH
    return (inner or _is_known(token)) and (
        token.word not in lx.STOPWORDS_ZH and _org_suffix(token.word) is None
    )


def _is_name_start(token: Token) -> bool:
    return (
        token.flag in lx.PROPER_FLAGS_ZH or token.word in lx.ORG_INNER_WORDS_ZH or _is_known(token)
    )


def _organisations(tokens: list[Token], used: list[bool]) -> list[Span]:
    spans = []
    for last, token in enumerate(tokens):
        suffix = _org_suffix(token.word)
        if used[last] or suffix is None or token.flag not in _NOUN_FLAGS:
            continue
        first = last
        while first > 0 and last - first < _MAX_ORG_WORDS - 1:
            previous = tokens[first - 1]
            if used[first - 1] or not _is_org_inner(previous):
                break
            first -= 1
        # Generic nouns before the name ("供应商鸿海集团") are not part of it; without a
        # name-like word, keep only the noun next to the suffix ("蚂蚁集团").
        starts = [i for i in range(first, last) if _is_name_start(tokens[i])]
        first = starts[0] if starts else max(first, last - 1)
        if last - first == 1 and tokens[first].flag == "ns" and tokens[last].word != suffix:
            first = last  # 日本夏普公司: the place is not part of the company's name
        if _accept_organisation(tokens[first : last + 1], suffix):
            spans.append(_take(tokens, used, first, last, ORGANIZATION, RULED))
    return spans


def _accept_organisation(words: list[Token], suffix: str) -> bool:
    core = "".join(token.word for token in words)[: -len(suffix)]
    if suffix in _GENERIC_WHEN_PLACE and len(words) == 2 and words[0].flag == "ns":
        return False  # 台湾公司: "a Taiwanese company"
    if any(token.flag in lx.PROPER_FLAGS_ZH or _is_known(token) for token in words):
        return True
    if len(core) < 2 or core in lx.GENERIC_ORG_PREFIXES_ZH:
        return False
    # One word the dictionary knows whole (苹果公司, 经济部), or a noun + suffix (小米 集团).
    return len(words) == 1 or (len(words) == 2 and words[0].flag in _NOUN_FLAGS)


def _places(tokens: list[Token], used: list[bool]) -> list[Span]:
    spans = []
    for index, token in enumerate(tokens):
        if used[index] or token.flag not in _NOUN_FLAGS or not _HAN.match(token.word):
            continue
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if (
            token.flag == "ns"
            and following is not None
            and not used[index + 1]
            and following.word in lx.LOCATION_SUFFIXES_ZH
        ):
            spans.append(_take(tokens, used, index, index + 1, LOCATION, RULED))
            continue
        suffix = next((s for s in lx.LOCATION_SUFFIXES_ZH if token.word.endswith(s)), None)
        if suffix and len(token.word) - len(suffix) >= 2 and token.word not in lx.STOPWORDS_ZH:
            spans.append(_take(tokens, used, index, index, LOCATION, TAGGED))
    return spans


def _surname_length(name: str) -> int:
    if name[:2] in lx.COMPOUND_SURNAMES_ZH:
        return 2
    return 1 if name[:1] in lx.SURNAMES_ZH else 0


def _unknown_names(tokens: list[Token], used: list[bool]) -> list[Span]:
    """Join runs of single characters that start with a surname: 张 忠 谋 → 张忠谋."""
    spans = []
    index = 0
    while index < len(tokens):
        run_end = index
        while (
            run_end < len(tokens)
            and not used[run_end]
            and len(tokens[run_end].word) == 1
            and _HAN.match(tokens[run_end].word)
            and tokens[run_end].word not in lx.NAME_BREAK_CHARS_ZH
            and tokens[run_end].flag != "m"
        ):
            run_end += 1
        if run_end == index:
            index += 1
            continue
        name = "".join(token.word for token in tokens[index:run_end])
        surname = _surname_length(name)
        if surname and 1 <= len(name) - surname <= 2:
            spans.append(_take(tokens, used, index, run_end - 1, PERSON, TAGGED))
        index = run_end
    return spans


def _tagged(tokens: list[Token], used: list[bool]) -> list[Span]:
    spans = []
    for index, token in enumerate(tokens):
        found = _POS_TYPES.get(token.flag)
        if used[index] or found is None or token.word in lx.STOPWORDS_ZH:
            continue
        if len(token.word) >= 2 and _HAN.match(token.word):
            spans.append(_take(tokens, used, index, index, *found))
    return spans


def _latin(tokens: list[Token], used: list[bool]) -> list[Span]:
    """Capitalised Latin words inside Chinese text (GitHub, Apple Inc), joined across spaces."""
    spans = []
    index = 0
    while index < len(tokens):
        if used[index] or tokens[index].flag != "eng" or not tokens[index].word[:1].isupper():
            index += 1
            continue
        last = index
        while (
            last + 2 < len(tokens)
            and tokens[last + 1].word == " "
            and tokens[last + 2].flag == "eng"
            and tokens[last + 2].word[:1].isupper()
        ):
            last += 2
        words = [tokens[i].word.lower() for i in range(index, last + 1, 2)]
        if words[-1] in lx.ORG_SUFFIXES_EN or " ".join(words) in lx.ORGS_EN:
            spans.append(_take(tokens, used, index, last, ORGANIZATION, RULED))
        else:
            spans.append(_take(tokens, used, index, last, MISC, GUESS))
        index = last + 1
    return spans
