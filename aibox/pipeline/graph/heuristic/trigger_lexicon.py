"""The trigger lexicon of relation typing: words that signal each type on the closed list.

English triggers match whole words, case-insensitively; Chinese ones are Simplified (evidence
is matched after t2s). Each type lists the entity types it may join, source → target.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aibox.pipeline.graph.heuristic.spans import LOCATION, MISC, ORGANIZATION, PERSON

_ORG_LIKE = frozenset({ORGANIZATION, MISC})
_ACTORS = frozenset({PERSON, ORGANIZATION, MISC})


@dataclass(frozen=True, slots=True)
class Rule:
    """A relation type, the entity types it joins and the words that signal it."""

    type: str
    sources: frozenset[str]
    targets: frozenset[str]
    verbs: str
    titles: str = ""
    symmetric: bool = False


def _pattern(english: str, chinese: str) -> str:
    """English words (whole words only) or Chinese strings (Simplified)."""
    return rf"(?<![A-Za-z])(?:{english})(?![A-Za-z])|{chinese}"


RULES = (
    Rule(
        "BORN_IN",
        frozenset({PERSON}),
        frozenset({LOCATION}),
        _pattern(r"born\s+(?:in|at)|native\s+of", "出生于|出生在|生于|出生"),
    ),
    Rule(
        "FOUNDED",
        _ACTORS,
        _ORG_LIKE,
        _pattern(
            r"(?:co-?)?founded|(?:co-?)?founds|established|set\s+up", "创办|创立|创建|成立|设立"
        ),
        _pattern(r"(?:co-?)?founders?", "创办人|创始人|创立者|创办者"),
    ),
    Rule(
        "LOCATED_IN",
        frozenset({ORGANIZATION, MISC, LOCATION}),
        frozenset({LOCATION}),
        _pattern(
            r"(?:located|headquartered|based|situated)\s+in|headquarters\s+in|-based"
            r"|(?:relocated|moved)\s+to",
            "总部位于|总部设于|总部设在|总部在|位于|坐落于|设于|迁至|迁往|迁到",
        ),
    ),
    Rule(
        "ACQUIRED",
        _ACTORS,
        _ORG_LIKE,
        _pattern(
            r"acquired|acquires|acquiring|bought|buys|took\s+over|acquisition\s+of",
            "收购|并购|买下|购入",
        ),
    ),
    Rule(
        "LEADS",
        frozenset({PERSON}),
        _ORG_LIKE,
        _pattern(r"leads|led|heads|headed|runs|chairs", "领导|执掌|掌管|带领"),
        _pattern(
            r"ceo|chief\s+executive(?:\s+officer)?|chairman|chairwoman|president|head|leader"
            r"|governor",
            "董事长|执行长|首席执行官|总裁|总经理|主席|院长|校长|局长|部长|社长|行长",
        ),
    ),
    Rule(
        "PARTNER_OF",
        _ACTORS,
        _ACTORS,
        _pattern(
            r"partner(?:ed|s|ing)?\s+with|partnership\s+with|partner\s+of|teamed\s+up\s+with"
            r"|collaborat(?:ed|es|ing|ion)\s+with|alliance\s+with|joint\s+ventures?",
            "合作|结盟|携手|合资",
        ),
        symmetric=True,
    ),
    Rule(
        "WORKS_FOR",
        frozenset({PERSON}),
        _ORG_LIKE,
        _pattern(
            r"works?\s+(?:at|for)|worked\s+(?:at|for)|working\s+(?:at|for)|employed\s+by"
            r"|employee\s+of|joined|taught\s+at|teach(?:es|ing)?\s+at",
            "任职于|就职于|供职于|效力于|任职|就职|加入",
        ),
    ),
)


SYMMETRIC_TYPES = frozenset(rule.type for rule in RULES if rule.symmetric)

# Right before a LEADS title, makes its holder a deputy, who works for the organisation.
DEPUTY = re.compile(r"(?:(?<![A-Za-z])(?:vice|deputy)[\s-]*|副)$", re.IGNORECASE)


def _compile() -> tuple[re.Pattern[str], dict[str, tuple[Rule, bool]]]:
    """All triggers in one pattern; the name of the group that matched gives rule and form."""
    forms: dict[str, tuple[Rule, bool]] = {}
    parts = []
    for rule in RULES:
        for title, pattern in ((False, rule.verbs), (True, rule.titles)):
            if pattern:
                name = f"g{len(forms)}"
                forms[name] = (rule, title)
                parts.append(f"(?P<{name}>{pattern})")
    return re.compile("|".join(parts), re.IGNORECASE), forms


TRIGGER, FORMS = _compile()
