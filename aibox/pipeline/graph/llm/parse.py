"""Tolerant parsing of a model's JSON answer into a list of records.

Fences and prose around the JSON are dropped and broken JSON (trailing commas, missing
brackets, single quotes) is repaired with json-repair. An object without the expected list
field gives its first list, or itself as the one record.
"""

from __future__ import annotations

import json
import re
from typing import Any

import json_repair

Record = dict[str, Any]

# A fenced block, possibly cut off before its closing fence by a length limit.
_FENCE = re.compile(r"```[A-Za-z]*[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)


def parse_records(content: str, field: str) -> list[Record] | None:
    """The records in an answer (a bare list or an object's ``field``); None if unparseable."""
    text = _unfence(content.strip())
    if not text:
        return None
    try:
        value: Any = json.loads(text)
    except json.JSONDecodeError:
        value = json_repair.loads(text)
    return _records(value, field)


def _unfence(text: str) -> str:
    match = _FENCE.search(text)
    return match.group(1).strip() if match else text


def _records(value: Any, field: str) -> list[Record] | None:
    if isinstance(value, dict):
        if field in value:
            listed = value[field]
            items = listed if isinstance(listed, list) else []
        else:
            lists = [v for v in value.values() if isinstance(v, list)]
            items = lists[0] if lists else ([value] if value else [])
    elif isinstance(value, list):
        items = value
    else:
        return None
    return [item for item in items if isinstance(item, dict)]
