"""A Redis cache of chat answers keyed by a hash of the request; skipped while Redis is down.

It implements :class:`aibox.pipeline.graph.llm.answers.AnswerCache` for the LLM extractor.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import redis

from aibox import keys

logger = logging.getLogger(__name__)

# After a Redis error the cache is skipped for this long, so that every request of a file does
# not wait out the client's own reconnection retries.
COOLDOWN_S = 30.0


class ResponseCache:
    """Chat answers kept in Redis for ``ttl_s`` seconds; a TTL of 0 disables the cache."""

    def __init__(self, connect: Callable[[], redis.Redis], ttl_s: int) -> None:
        self._connect = connect
        self._ttl_s = ttl_s
        self._client: redis.Redis | None = None
        self._skip_until = 0.0

    def get(self, request_hash: str) -> str | None:
        """The cached answer, or None when absent or Redis cannot be reached."""
        value = self._call(lambda client: client.get(keys.llm_answer(request_hash)))
        if isinstance(value, bytes):
            return value.decode("utf-8")
        return value if isinstance(value, str) else None

    def set(self, request_hash: str, content: str) -> None:
        """Keep an answer for the TTL (best effort)."""
        self._call(
            lambda client: client.set(keys.llm_answer(request_hash), content, ex=self._ttl_s)
        )

    def _call(self, command: Callable[[redis.Redis], Any]) -> Any:
        if self._ttl_s <= 0 or time.monotonic() < self._skip_until:
            return None
        try:
            if self._client is None:
                self._client = self._connect()
            return command(self._client)
        except redis.RedisError as exc:
            self._skip_until = time.monotonic() + COOLDOWN_S
            logger.warning(
                "LLM response cache skipped for %.0fs, Redis unavailable: %s", COOLDOWN_S, exc
            )
            return None
