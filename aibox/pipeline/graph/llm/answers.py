"""Where the LLM extractor may keep chat answers: a small interface, and no cache at all.

Answers are looked up by a hash of the request (model, messages, sampling parameters), so an
identical request is never sent twice while the cache keeps its answer. The Redis
implementation is :class:`aibox.store.llm_cache.ResponseCache`; the pipeline only knows this
interface.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Protocol


class AnswerCache(Protocol):
    """Chat answers by request hash."""

    def get(self, request_hash: str) -> str | None:
        """The kept answer, or None."""
        ...

    def set(self, request_hash: str, content: str) -> None:
        """Keep an answer (best effort)."""
        ...


class NoCache:
    """Keeps nothing: every request goes to the model."""

    def get(self, request_hash: str) -> str | None:
        """Always None."""
        del request_hash
        return None

    def set(self, request_hash: str, content: str) -> None:
        """Forgets it."""
        del request_hash, content


def request_hash(request: Mapping[str, Any]) -> str:
    """The hex SHA-256 of a request in canonical JSON (sorted keys, no spaces)."""
    payload = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
