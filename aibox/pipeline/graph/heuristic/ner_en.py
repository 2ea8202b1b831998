"""English NER from capitalisation, suffix and title rules and a small gazetteer.

A name is a run of capitalised words, joined across "of" after an organisation or place head
("Bank of America"), name particles ("Charles de Gaulle"), "&", and "and" when an organisation
suffix follows ("Bill and Melinda Gates Foundation"). A lone capitalised word that starts a
sentence is kept only if it also appears mid-sentence in the file or a rule vouches for it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, compress

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

# Words (any script's letters: José, Zürich), dotted acronyms (U.S.), or one other character.
# The whole pattern is one group, so that split() keeps the tokens: [gap, token, gap, …, gap].
_TOKEN = re.compile(r"((?:[^\W\d_]\.){2,}|[^\W_]+(?:['’][^\W\d_]{2,})?(?:-[^\W_]+)*|\S)")
_ABBREVIATIONS = frozenset({"inc", "corp", "ltd", "co", "jr", "sr", "st", "mr", "mrs", "ms", "dr"})
# Titles that end one name and start a person's inside a capitalised run ("Apple CEO Tim Cook").
_SPLITTING_TITLES = lx.PERSON_TITLES_EN - {"sir", "dame", "lord", "lady", "king", "queen", "prince"}
# "of" joins a name whose last word is one of these to the next ("Bank of America").
_OF_HEADS = lx.ORG_HEADS_EN | lx.LOCATION_HEADS_EN
# "and" joins two names when the run after it ends with one of these ("… and Melinda Gates
# Foundation").
_AND_TAILS = lx.CORPORATE_FORMS_EN | lx.ORG_SUFFIXES_EN


# Not frozen: a frozen dataclass costs ~4x as much to build, and these two are built in bulk.
@dataclass(slots=True)
class _Tokens:
    """A sentence's tokens as parallel lists: token i is texts[i], at starts[i]:ends[i].

    One object per sentence rather than one per token: building a token object and asking it
    for its capitalisation was most of the time this module took on real text.
    """

    texts: list[str]
    starts: list[int]
    ends: list[int]
    caps: list[bool]  # see _capitalised

    def low(self, index: int) -> str:
        return self.texts[index].lower()


@dataclass(slots=True)
class _Name:
    words: list[str]  # as written
    key: str  # the words in lower case, joined by spaces
    start: int
    end: int
    titled: bool  # a person title came right before
    initial: bool  # a single word starting its sentence
    before: str  # the word before the name, lower case
    after: str  # the word after the name, lower case


def find_entities(sentences: Sequence[str]) -> list[list[Span]]:
    """Return entity spans for each of a file's English sentences, offsets per sentence."""
    names = [_sentence_names(sentence) for sentence in sentences]
    mid_sentence = {name.key for found in names for name in found if not name.initial}
    # "Jobs" opening a sentence is kept when "Steve Jobs" appears in the file.
    mid_sentence |= {
        name.words[-1].lower() for found in names for name in found if len(name.words) > 1
    }
    result: list[list[Span]] = []
    for found in names:
        spans = []
        for name in found:
            if name.initial and name.key not in mid_sentence and not _vouched(name):
                continue
            kind, strength = _classify(name)
            spans.append(Span(name.start, name.end, kind, strength))
        result.append(spans)
    return result


def _sentence_names(sentence: str) -> list[_Name]:
    if sentence.islower():  # no capital letter at all (a code line, say): no name, no tokens
        return []
    return _names(_tokens(sentence))


def _tokens(sentence: str) -> _Tokens:
    pieces = _TOKEN.split(sentence)
    # The pieces concatenate to the sentence, so running sums of their lengths are the offsets.
    bounds = list(accumulate(map(len, pieces)))
    texts, starts, ends = pieces[1::2], bounds[0:-1:2], bounds[1::2]
    if "-" in sentence:
        _cut_hyphenated(texts, starts, ends)
    _attach_full_stops(texts, starts, ends)
    # islower() is a quick "no" for the commonest token, a lower-case word (no capital at all).
    caps = [not text.islower() and _capitalised(text) for text in texts]
    return _Tokens(texts, starts, ends, caps)


def _cut_hyphenated(texts: list[str], starts: list[int], ends: list[int]) -> None:
    """Cut "Cupertino-based" before its first lower-case part: the name is the head only."""
    for index in reversed([i for i, text in enumerate(texts) if "-" in text]):
        text = texts[index]
        parts = text.split("-")
        if text.lower() in lx.PERSON_TITLES_EN or not parts[0][:1].isupper():
            continue
        keep = next((i for i, part in enumerate(parts) if part[:1].islower()), len(parts))
        if keep < len(parts):
            head = len("-".join(parts[:keep]))
            texts[index : index + 1] = [text[:head], text[head:]]
            starts.insert(index + 1, starts[index] + head)
            ends.insert(index, starts[index] + head)


def _attach_full_stops(texts: list[str], starts: list[int], ends: list[int]) -> None:
    """Join a full stop to the abbreviation or initial it touches: "Inc.", "Mr.", "F."."""
    # From the end, so that the indices still to visit stay valid. A word that already took a
    # full stop never takes a second one ("F.." is "F." and "."), so the order changes nothing.
    for index in reversed([i for i, text in enumerate(texts) if text == "."]):
        if index == 0 or ends[index - 1] != starts[index]:
            continue
        last = texts[index - 1]
        if last.lower() in _ABBREVIATIONS or (len(last) == 1 and last.isupper()):
            texts[index - 1 : index + 1] = [last + "."]
            ends[index - 1 : index + 1] = [ends[index]]
            del starts[index]


def _capitalised(text: str) -> bool:
    """Capitalised, or a brand with an inner capital (iPhone); never Han characters."""
    return text[0].isupper() or (text[0].isalpha() and any(char.isupper() for char in text))


def _name_like(text: str) -> bool:
    """A word a personal name is made of: Tim, José, McDonald, or an initial (F.)."""
    if len(text) == 2 and text[1] == ".":
        return text[0].isupper()
    uppers = sum(char.isupper() for char in text)
    return text.isalpha() and text[0].isupper() and uppers <= 2 and uppers < len(text)


def _joins(tokens: _Tokens, first: int, last: int, link: int) -> bool:
    """True when the lower-case word at ``link`` joins the name ``first..last`` to the next."""
    caps = tokens.caps
    if link + 1 >= len(caps) or not caps[link + 1]:
        return False
    word = tokens.low(link)
    if word in lx.PARTICLES_EN or word == "&":
        return True
    if word == "of":
        return tokens.low(last) in _OF_HEADS
    if word != "and" or last - first > 1:
        return False
    end = link + 1
    while end + 1 < len(caps) and caps[end + 1]:
        end += 1
    return tokens.low(end).rstrip(".") in _AND_TAILS


def _runs(tokens: _Tokens) -> list[tuple[int, int]]:
    caps = tokens.caps
    runs = []
    last = -1
    for first in compress(range(len(caps)), caps):  # the capitalised tokens' indices
        if first <= last:  # inside the run before
            continue
        last = first
        while last + 1 < len(caps):
            if caps[last + 1]:
                last += 1
            elif _joins(tokens, first, last, last + 1):
                last += 2
            else:
                break
        runs.append((first, last))
    return runs


def _names(tokens: _Tokens) -> list[_Name]:
    names = []
    first_word = next((i for i, text in enumerate(tokens.texts) if text[0].isalnum()), -1)
    for first, last in _runs(tokens):
        titled = False
        start = first
        for index in range(first + 1, last + 1):
            if tokens.low(index) in _SPLITTING_TITLES:
                names.extend(_make(tokens, start, index - 1, titled, first_word))
                start, titled = index, False
        names.extend(_make(tokens, start, last, titled, first_word))
    return names


def _make(tokens: _Tokens, first: int, last: int, titled: bool, first_word: int) -> list[_Name]:
    stripped = first
    while stripped <= last:
        word = tokens.low(stripped)
        is_title = word.rstrip(".") in lx.PERSON_TITLES_EN
        if not is_title and word not in lx.STOPWORDS_EN:
            break
        if word == "new" and stripped < last:  # New York, New Orleans: part of the name
            break
        titled = titled or is_title
        stripped += 1
    if stripped > last:
        return []
    words = tokens.texts[stripped : last + 1]
    key = " ".join(map(str.lower, words))
    before = tokens.low(stripped - 1) if stripped > 0 else ""
    after = tokens.low(last + 1) if last + 1 < len(tokens.texts) else ""
    titled = titled or before in lx.PERSON_TITLES_EN
    initial = stripped == first_word and len(words) == 1
    start, end = tokens.starts[stripped], tokens.ends[last]
    return [_Name(words, key, start, end, titled, initial, before, after)]


def _vouched(name: _Name) -> bool:
    """True when a rule keeps a lone sentence-initial word that recurs nowhere else."""
    word = name.words[0]
    if _known_type(name) is not None or name.key in lx.ORGS_EN:
        return True
    if any(char.isupper() for char in word[1:]):  # GitHub, IBM
        return True
    # A verb-like next word: "Microsoft acquired …", "Nvidia makes …".
    return name.after not in lx.STOPWORDS_EN and name.after.endswith(("ed", "s"))


def _known_type(name: _Name) -> str | None:
    key = name.key
    if key in lx.PLACES_EN or (len(name.words) == 1 and key in lx.COUNTRIES_AND_CITIES_EN):
        return LOCATION
    if key in lx.ORGS_EN:
        return ORGANIZATION
    return None


def _classify(name: _Name) -> tuple[str, int]:
    known = _known_type(name)
    if known is not None:
        return known, RULED
    words = [word.lower().rstrip(".") for word in name.words]
    if words[-1] in lx.ORG_SUFFIXES_EN or words[-1] in lx.CORPORATE_FORMS_EN:
        return ORGANIZATION, RULED
    if "of" in words[1:]:
        if words[0] in lx.ORG_HEADS_EN:
            return ORGANIZATION, RULED
        if words[0] in lx.LOCATION_HEADS_EN:
            return LOCATION, RULED
    if name.titled:
        return PERSON, RULED
    if words[-1] in lx.LOCATION_SUFFIXES_EN and len(words) > 1:
        return LOCATION, TAGGED
    if words[0] in lx.ORGS_EN and len(words) > 1:  # Google DeepMind, Samsung Electronics
        return ORGANIZATION, TAGGED
    if name.before in lx.LOCATION_CUES_EN and len(words) <= 3:
        return LOCATION, GUESS
    if 2 <= len(words) <= 4 and _looks_like_person(name.words):
        return PERSON, GUESS
    return MISC, GUESS


def _looks_like_person(words: list[str]) -> bool:
    """Two or three name-like words, particles aside: Tim Cook, Charles de Gaulle."""
    if sum(word.lower() not in lx.PARTICLES_EN for word in words) > 3:
        return False
    ends = (words[0], words[-1])
    if not all(_name_like(word) and not word.endswith(".") for word in ends):
        return False
    return all(_name_like(word) or word.lower() in lx.PARTICLES_EN for word in words[1:-1])
