"""Jobs the RQ comparison runs (RQ imports them by dotted path)."""

from __future__ import annotations

from typing import Any


def noop() -> None:
    """Do nothing."""
    return


def store_upload(file_path: str, user_id: str, **_: Any) -> None:
    """What the old RQ system's job was handed for an upload (not run in the submission test)."""
    del file_path, user_id
