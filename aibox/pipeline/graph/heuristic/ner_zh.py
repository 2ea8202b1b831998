"""Chinese NER from jieba POS tags, organisation-suffix rules and a surname rule.

Rules run in order and a word used by one rule is not reused: organisation suffixes (the
name-like words before 公司/集团/大学… are merged in), gazetteers, names written with a middle
dot (比尔·盖兹), place suffixes, unknown names (runs of single characters that start with a
surname, or a surname and a two-character given name), then jieba's own tags (nr → PERSON,
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
_NAME_DOTS = frozenset("·‧・•")
_NAME_FLAGS = frozenset({"nr", "nrt", "nrfg", "ns", "nz"})
_GIVEN_NAME_FLAGS = frozenset({"nr", "nrt", "nrfg", "nz", "n"})
_MAX_NAME_PART = 5  # characters on either side of a middle dot
_NUMERALS = frozenset("零一二三四五六七八九十百千万亿两几半")
_AREA_ENDS = frozenset("省市县")  # an address goes on with a smaller area: 桃园市芦竹区
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
    rules = (_organisations, _gazetteer, _dotted_names, _places, _unknown_names, _tagged, _latin)
    for rule in rules:
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
        last, kind = found
        following = last + 1
        if (
            kind == LOCATION
            and following < len(tokens)
            and not used[following]
            and tokens[following].word in lx.LOCATION_SUFFIXES_ZH  # 新北 / 市 → 新北市
        ):
            last = following
        spans.append(_take(tokens, used, index, last, kind, RULED))
        index = last + 1
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
        if token.word in lx.NOT_ORG_SUFFIX_WORDS_ZH:  # 总部 "headquarters" is no ministry (部)
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
    if words[0].flag == "ns" and core[len(words[0].word) :] in lx.GENERIC_ORG_PREFIXES_ZH:
        return False  # 德国新创公司: "a German start-up"
    if any(token.flag in lx.PROPER_FLAGS_ZH or _is_known(token) for token in words):
        return True
    if len(core) < 2 or core in lx.GENERIC_ORG_PREFIXES_ZH:
        return False
    # One word the dictionary knows whole (苹果公司, 经济部), or a noun + suffix (小米 集团).
    return len(words) == 1 or (len(words) == 2 and words[0].flag in _NOUN_FLAGS)


def _places(tokens: list[Token], used: list[bool]) -> list[Span]:
    spans = []
    for index, token in enumerate(tokens):
        if used[index]:
            continue
        district = _district(tokens, used, index)
        if district is not None:
            spans.append(_take(tokens, used, index, district, LOCATION, RULED))
            continue
        if token.flag not in _NOUN_FLAGS or not _HAN.match(token.word):
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


def _district(tokens: list[Token], used: list[bool], first: int) -> int | None:
    """The last token of a smaller area named right after a city or county (台中市 / 西 屯 区)."""
    if first == 0 or not used[first - 1] or tokens[first - 1].word[-1] not in _AREA_ENDS:
        return None
    length, index = 0, first
    while index < len(tokens) and not used[index] and _HAN.match(tokens[index].word):
        word = tokens[index].word
        if word in lx.LOCATION_SUFFIXES_ZH:
            return index if length else None
        if word in lx.STOPWORDS_ZH or word in lx.NAME_BREAK_CHARS_ZH:
            return None
        length += len(word)
        if length > 3:
            return None
        index += 1
    return None


def _surname_length(name: str) -> int:
    if name[:2] in lx.COMPOUND_SURNAMES_ZH:
        return 2
    return 1 if name[:1] in lx.SURNAMES_ZH else 0


def _is_name_char(token: Token) -> bool:
    """A single character that may be part of a name; 许 but not 万 may be tagged a numeral."""
    word = token.word
    if len(word) != 1 or not _HAN.match(word) or word in lx.NAME_BREAK_CHARS_ZH:
        return False
    return token.flag != "m" or (word in lx.SURNAMES_ZH and word not in _NUMERALS)


def _name_start(run: str) -> int | None:
    """Where in a run of single characters a surname starts a name of 2-4 characters."""
    for start in range(len(run)):
        surname = _surname_length(run[start:])
        if surname and 1 <= len(run) - start - surname <= 2:
            return start
    return None


def _is_given_name(token: Token) -> bool:
    return (
        len(token.word) == 2
        and _HAN.match(token.word) is not None
        and token.flag in _GIVEN_NAME_FLAGS
        and token.word not in lx.STOPWORDS_ZH
        and _org_suffix(token.word) is None
    )


def _unknown_names(tokens: list[Token], used: list[bool]) -> list[Span]:
    """Join single characters from a surname on, or a surname and a two-character given name."""
    # 张 忠 谋 → 张忠谋; 县 长 周 春 米 → 周春米 (the run need not start with the surname);
    # 陈 / 美玲 → 陈美玲 (jieba kept the given name whole).
    spans = []
    index = 0
    while index < len(tokens):
        run_end = index
        while run_end < len(tokens) and not used[run_end] and _is_name_char(tokens[run_end]):
            run_end += 1
        if run_end == index:
            index += 1
            continue
        start = _name_start("".join(token.word for token in tokens[index:run_end]))
        if start is not None:
            spans.append(_take(tokens, used, index + start, run_end - 1, PERSON, TAGGED))
        elif (
            tokens[run_end - 1].word in lx.SURNAMES_ZH
            and run_end < len(tokens)
            and not used[run_end]
            and _is_given_name(tokens[run_end])
        ):
            spans.append(_take(tokens, used, run_end - 1, run_end, PERSON, TAGGED))
            run_end += 1
        index = run_end
    return spans


def _dotted_names(tokens: list[Token], used: list[bool]) -> list[Span]:
    """Names written with a middle dot between their parts: 比尔·盖兹, 撒古流·巴瓦瓦隆."""
    spans = []
    for dot, token in enumerate(tokens):
        if token.word not in _NAME_DOTS or used[dot]:
            continue
        first = _name_part(tokens, used, dot, -1)
        last = _name_part(tokens, used, dot, 1)
        while first < dot < last < len(tokens) - 2 and tokens[last + 1].word in _NAME_DOTS:
            further = _name_part(tokens, used, last + 1, 1)  # 马丁·路德·金
            if further == last + 1:
                break
            last = further
        if first == dot or last == dot:
            continue
        if last + 1 < len(tokens) and _org_suffix(tokens[last + 1].word):
            continue  # 梅琳达·盖兹基金会: part of an organisation's name
        spans.append(_take(tokens, used, first, last, PERSON, TAGGED))
    return spans


def _name_part(tokens: list[Token], used: list[bool], dot: int, step: int) -> int:
    """The farthest token of the name part beside a middle dot (``dot`` itself if none)."""
    # The word next to the dot belongs to the name whatever its tag (图灵/n, 甘迺迪/v); further
    # words only if they are single characters or tagged as names (巴瓦/ns 瓦隆/nr).
    end, length = dot, 0
    index = dot + step
    while 0 <= index < len(tokens) and not used[index]:
        token = tokens[index]
        if end == dot:
            fits = (
                _HAN.match(token.word) is not None
                and token.word not in lx.STOPWORDS_ZH
                and token.word not in lx.NAME_BREAK_CHARS_ZH
                and _org_suffix(token.word) is None
            )
        else:
            named = token.flag in _NAME_FLAGS and _HAN.match(token.word) is not None
            fits = _is_name_char(token) or named
        length += len(token.word)
        if not fits or length > _MAX_NAME_PART:
            break
        end, index = index, index + step
    return end


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
