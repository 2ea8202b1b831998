"""Parser for JSON: ``key: value`` lines, nested keys joined by dots, one record per paragraph."""

from __future__ import annotations

import json
from typing import Any

from aibox.errors import EmptyDocumentError, UnreadableFileError
from aibox.pipeline.encoding import decode_bytes
from aibox.pipeline.types import Document


def parse_json(data: bytes, file_type: str) -> Document:
    """Render the JSON value in ``data``: a list as one paragraph per item, else one paragraph."""
    text, encoding = decode_bytes(data)
    value = _load(text)
    records = value if isinstance(value, list) else [value]
    paragraphs = [p for p in ("\n".join(render_lines(record)) for record in records) if p]
    if not paragraphs:
        raise EmptyDocumentError("JSON contains no values")
    return Document(text="\n\n".join(paragraphs), file_type=file_type, encoding=encoding)


def _load(text: str) -> Any:
    """json.loads with its failures turned into messages for users."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableFileError(
            f"JSON is not valid: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise UnreadableFileError("JSON is not valid: it is nested too deeply") from None
    except ValueError:  # only an integer beyond int's digit limit gets here
        raise UnreadableFileError("JSON is not valid: it holds a number too long to read") from None


def render_lines(value: Any) -> list[str]:
    """``path: value`` lines for every scalar in ``value``, in document order, without recursion.

    Keys are joined by dots (``address.city``), list items by their index (``items[0].name``);
    lists of scalars become one line joined by ", ". Nulls and empty strings are left out.
    """
    lines: list[str] = []
    pending: list[tuple[str, Any]] = [("", value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, dict):
            children = [(_join(path, str(key)), child) for key, child in item.items()]
        elif isinstance(item, list) and any(isinstance(x, dict | list) for x in item):
            children = [(f"{path}[{index}]", child) for index, child in enumerate(item)]
        else:
            scalar = _scalar(item)
            if scalar:
                lines.append(f"{path}: {scalar}" if path else scalar)
            continue
        pending.extend(reversed(children))
    return lines


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _scalar(value: Any) -> str:
    """A scalar, or a list of scalars joined by ", ", as text; "" for null and empty values."""
    if isinstance(value, list):
        return ", ".join(text for text in map(_scalar, value) if text)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value.strip()
    return json.dumps(value)
