"""Opaque pagination cursors: a small JSON object, base64url-encoded, checked when read back."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aibox.errors import InvalidCursorError


def encode_cursor(fields: dict[str, Any]) -> str:
    """The opaque token for ``fields``."""
    raw = json.dumps(fields, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, expected: dict[str, type | tuple[type, ...]]) -> dict[str, Any]:
    """The fields of ``token``, each present with the expected type, or InvalidCursorError."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        fields = json.loads(raw)
    except (ValueError, binascii.Error) as exc:
        raise InvalidCursorError("the cursor is not valid") from exc
    if not isinstance(fields, dict):
        raise InvalidCursorError("the cursor is not valid")
    require(fields, expected)
    return fields


def require(fields: dict[str, Any], expected: dict[str, type | tuple[type, ...]]) -> None:
    """Raise InvalidCursorError unless every expected field is there with its type."""
    for name, kind in expected.items():
        value = fields.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise InvalidCursorError("the cursor is not valid")
