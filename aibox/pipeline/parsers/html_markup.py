"""Keep HTML within what lexbor parses in linear time, before it sees the markup.

lexbor slows down quadratically in two places: each start tag scans the stack of open elements
(so very deep nesting is slow), and each attribute is compared with the tag's earlier ones (so
a tag with a million attributes takes hours). Tags nested deeper than ``MAX_DEPTH`` are dropped
(their text stays), and attributes after the first ``MAX_ATTRIBUTES`` of a tag are dropped.

Every regular expression here is linear in the markup: none can rescan text after a failed
match (possessive quantifiers, or a character class that stops at the next ``<``).
"""

from __future__ import annotations

import itertools
import re

MAX_DEPTH = 1000
MAX_ATTRIBUTES = 1000

_VOID_TAGS = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)
# Tags the parser may close by itself; counting them would overstate the depth.
_IMPLIED_END_TAGS = frozenset(
    "p li dt dd tr td th option optgroup thead tbody tfoot colgroup caption rb rt rp html head "
    "body".split()
)


def _alternatives(names: frozenset[str]) -> str:
    """``names`` as a regex alternation grouped by first letter (fewer branches to try)."""
    by_letter = itertools.groupby(sorted(names), key=lambda name: name[0])
    return "|".join(f"{letter}(?:{'|'.join(n[1:] for n in group)})" for letter, group in by_letter)


# A start or end tag that opens or closes a level of nesting: its name (any case) is not a void
# or implied-end tag, and it does not end in "/>". Group 1 is "/" for an end tag. Tags left out
# never change the depth, so matching only these finds the same tags at the same places.
_NESTING_TAG = re.compile(
    rf"<(/?)(?!(?i:{_alternatives(_VOID_TAGS | _IMPLIED_END_TAGS)})(?![A-Za-z0-9-]))"
    r"[A-Za-z][A-Za-z0-9-]*+[^<>]*+(?<!/)>",
    re.ASCII,
)

# A start tag as lexbor's tokenizer sees it: up to the first ">" outside a quoted attribute
# value, or to the end of the markup (where an unclosed tag swallows the rest). It always
# matches, so no start is scanned twice.
_START_TAG = re.compile(r"""<[A-Za-z](?:[^"'>=]++|=\s*+(?:"[^"]*+"?|'[^']*+'?)|[="'])*+(?:>|\Z)""")
# One attribute: a name, and optionally "=" and a quoted or bare value.
_ATTRIBUTE = re.compile(r"""[^\s/>"'=][^\s/>=]*+(?:\s*+=\s*+(?:"[^"]*+"?|'[^']*+'?|[^\s>]*+))?+""")
_TAG_NAME = re.compile(r"<[^\s/>]*+")
# A tag cannot hold more attributes than half its length (" a" is the shortest).
_SHORTEST_OVERFULL_TAG = 2 * MAX_ATTRIBUTES


def limit_markup(markup: str) -> str:
    """``markup`` with its overfull tags trimmed and its over-deep tags dropped."""
    return _limit_depth(_limit_attributes(markup))


def _limit_attributes(markup: str) -> str:
    """Drop the attributes after the first MAX_ATTRIBUTES of each tag."""
    if len(markup) <= _SHORTEST_OVERFULL_TAG:
        return markup
    parts: list[str] = []
    done = 0
    for match in _START_TAG.finditer(markup):
        if match.end() - match.start() <= _SHORTEST_OVERFULL_TAG:
            continue
        cut = _attributes_end(match.group(0))
        if cut is not None:
            parts += [markup[done : match.start()], match.group(0)[:cut], ">"]
            done = match.end()
    if not parts:
        return markup
    parts.append(markup[done:])
    return "".join(parts)


def _attributes_end(tag: str) -> int | None:
    """Where the tag's MAX_ATTRIBUTES-th attribute ends, if it has more; else None."""
    name = _TAG_NAME.match(tag)
    attributes = _ATTRIBUTE.finditer(tag, name.end() if name else 1)
    last_kept = None
    for count, attribute in enumerate(attributes, start=1):
        if count == MAX_ATTRIBUTES:
            last_kept = attribute
        elif last_kept is not None:
            return last_kept.end()
    return None


def _limit_depth(markup: str) -> str:
    """Drop the tags nested deeper than MAX_DEPTH, keeping their text."""
    if markup.count("<") <= MAX_DEPTH or _deepest(markup) <= MAX_DEPTH:
        return markup
    depth = 0

    def drop_deep(match: re.Match[str]) -> str:
        nonlocal depth
        if match.group(1):
            depth = max(depth - 1, 0)
            return match.group(0) if depth < MAX_DEPTH else " "
        depth += 1
        return match.group(0) if depth <= MAX_DEPTH else " "

    return _NESTING_TAG.sub(drop_deep, markup)


def _deepest(markup: str) -> int:
    """How deep the nesting tags of ``markup`` go; a stray end tag at depth 0 is ignored."""
    depth = deepest = 0
    for end in _NESTING_TAG.findall(markup):
        if end:
            depth = max(depth - 1, 0)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest
