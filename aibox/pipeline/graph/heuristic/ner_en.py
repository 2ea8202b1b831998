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
_TOKEN = re.compile(r"(?:[^\W\d_]\.){2,}|[^\W_]+(?:['’][^\W\d_]{2,})?(?:-[^\W_]+)*|\S")
_ABBREVIATIONS = frozenset({"inc", "corp", "ltd", "co", "jr", "sr", "st", "mr", "mrs", "ms", "dr"})
# Titles that end one name and start a person's inside a capitalised run ("Apple CEO Tim Cook").
_SPLITTING_TITLES = lx.PERSON_TITLES_EN - {"sir", "dame", "lord", "lady", "king", "queen", "prince"}


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    start: int
    end: int

    @property
    def low(self) -> str:
        return self.text.lower()

    @property
    def cap(self) -> bool:
        """Capitalised, or a brand with an inner capital (iPhone); never Han characters."""
        return self.text[0].isupper() or (
            self.text[0].isalpha() and any(char.isupper() for char in self.text)
        )

    @property
    def name_like(self) -> bool:
        """A word a personal name is made of: Tim, José, McDonald, or an initial (F.)."""
        text = self.text
        if len(text) == 2 and text[1] == ".":
            return text[0].isupper()
        uppers = sum(char.isupper() for char in text)
        return text.isalpha() and text[0].isupper() and uppers <= 2 and uppers < len(text)


@dataclass(frozen=True, slots=True)
class _Name:
    words: list[_Token]
    titled: bool  # a person title came right before
    initial: bool  # a single word starting its sentence
    before: str  # the word before the name, lower case
    after: str  # the word after the name, lower case

    @property
    def key(self) -> str:
        return " ".join(word.low for word in self.words)


def find_entities(sentences: Sequence[str]) -> list[list[Span]]:
    """Return entity spans for each of a file's English sentences, offsets per sentence."""
    names = [_names(_tokens(sentence)) for sentence in sentences]
    mid_sentence = {name.key for found in names for name in found if not name.initial}
    # "Jobs" opening a sentence is kept when "Steve Jobs" appears in the file.
    mid_sentence |= {name.words[-1].low for found in names for name in found if len(name.words) > 1}
    result: list[list[Span]] = []
    for found in names:
        spans = []
        for name in found:
            if name.initial and name.key not in mid_sentence and not _vouched(name):
                continue
            kind, strength = _classify(name)
            spans.append(Span(name.words[0].start, name.words[-1].end, kind, strength))
        result.append(spans)
    return result


def _tokens(sentence: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(sentence):
        text, start = match.group(), match.start()
        if match.group() == "." and tokens and tokens[-1].end == start:
            last = tokens[-1]
            if last.low in _ABBREVIATIONS or (len(last.text) == 1 and last.text.isupper()):
                tokens[-1] = _Token(last.text + ".", last.start, match.end())
                continue
        parts = text.split("-")
        if len(parts) > 1 and text.lower() not in lx.PERSON_TITLES_EN and parts[0][:1].isupper():
            # "Cupertino-based": the name is the capitalised head only.
            keep = next((i for i, part in enumerate(parts) if part[:1].islower()), len(parts))
            head = "-".join(parts[:keep])
            if keep < len(parts):
                tokens.append(_Token(head, start, start + len(head)))
                tokens.append(_Token(text[len(head) :], start + len(head), match.end()))
                continue
        tokens.append(_Token(text, start, match.end()))
    return tokens


def _joins(tokens: list[_Token], first: int, last: int, link: int) -> bool:
    """True when the lower-case word at ``link`` joins the name ``first..last`` to the next."""
    if link + 1 >= len(tokens) or not tokens[link + 1].cap:
        return False
    word = tokens[link].low
    if word in lx.PARTICLES_EN or word == "&":
        return True
    if word == "of":
        return tokens[last].low in lx.ORG_HEADS_EN | lx.LOCATION_HEADS_EN
    if word != "and" or last - first > 1:
        return False
    end = link + 1
    while end + 1 < len(tokens) and tokens[end + 1].cap:
        end += 1
    return tokens[end].low.rstrip(".") in lx.CORPORATE_FORMS_EN | lx.ORG_SUFFIXES_EN


def _runs(tokens: list[_Token]) -> list[tuple[int, int]]:
    runs = []
    index = 0
    while index < len(tokens):
        if not tokens[index].cap:
            index += 1
            continue
        last = index
        while last + 1 < len(tokens):
            if tokens[last + 1].cap:
                last += 1
            elif _joins(tokens, index, last, last + 1):
                last += 2
            else:
                break
        runs.append((index, last))
        index = last + 1
    return runs


def _names(tokens: list[_Token]) -> list[_Name]:
    names = []
    first_word = next((i for i, t in enumerate(tokens) if t.text[0].isalnum()), -1)
    for first, last in _runs(tokens):
        titled = False
        start = first
        for index in range(first, last + 1):
            if tokens[index].low in _SPLITTING_TITLES and index > start:
                names.extend(_make(tokens, start, index - 1, titled, first_word))
                start, titled = index, False
        names.extend(_make(tokens, start, last, titled, first_word))
    return names


def _make(
    tokens: list[_Token], first: int, last: int, titled: bool, first_word: int
) -> list[_Name]:
    stripped = first
    while stripped <= last:
        word = tokens[stripped].low
        is_title = word.rstrip(".") in lx.PERSON_TITLES_EN
        if not is_title and word not in lx.STOPWORDS_EN:
            break
        if word == "new" and stripped < last:  # New York, New Orleans: part of the name
            break
        titled = titled or is_title
        stripped += 1
    if stripped > last:
        return []
    words = tokens[stripped : last + 1]
    before = tokens[stripped - 1].low if stripped > 0 else ""
    after = tokens[last + 1].low if last + 1 < len(tokens) else ""
    titled = titled or before in lx.PERSON_TITLES_EN
    initial = stripped == first_word and len(words) == 1
    return [_Name(words, titled, initial, before, after)]


def _vouched(name: _Name) -> bool:
    """True when a rule keeps a lone sentence-initial word that recurs nowhere else."""
    word = name.words[0].text
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
    words = [word.low.rstrip(".") for word in name.words]
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


def _looks_like_person(words: list[_Token]) -> bool:
    """Two or three name-like words, particles aside: Tim Cook, Charles de Gaulle."""
    if sum(word.low not in lx.PARTICLES_EN for word in words) > 3:
        return False
    ends = (words[0], words[-1])
    if not all(word.name_like and not word.text.endswith(".") for word in ends):
        return False
    return all(word.name_like or word.low in lx.PARTICLES_EN for word in words[1:-1])
