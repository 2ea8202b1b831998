"""Chat completions through the openai SDK: cache, concurrency limit, retries, error mapping.

``response_format={"type": "json_object"}`` is sent until the endpoint answers a request
carrying it with HTTP 400 and the same request without it succeeds; from then on it is not
sent. Answers are parsed tolerantly either way, and the cache key leaves it out.

After the SDK's own retries, timeouts, connection errors, 408/409/429 and 5xx raise
TransientError; other statuses raise PermanentError naming the endpoint and model, never the key.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import openai
from openai.types.chat import ChatCompletionMessageParam

from aibox.errors import PermanentError, TransientError
from aibox.pipeline.graph.llm.answers import AnswerCache, request_hash
from aibox.pipeline.graph.llm.parse import Record, parse_records
from aibox.settings import Settings

logger = logging.getLogger(__name__)

Message = dict[str, str]
TEMPERATURE = 0.0
_RETRYABLE = frozenset({408, 409, 429})


@dataclass
class ChatStats:
    """What a client did: requests sent, answers taken from the cache, answers unparseable."""

    requests: int = 0
    cache_hits: int = 0
    unparseable: int = 0


class ChatClient:
    """One model on one OpenAI-compatible endpoint, at most ``llm_max_concurrency`` at a time."""

    def __init__(self, settings: Settings, cache: AnswerCache) -> None:
        self.base_url = settings.llm_base_url
        self.model = settings.llm_model
        self._max_retries = settings.llm_max_retries
        self._api_key = settings.llm_api_key.get_secret_value()
        self._openai = openai.OpenAI(
            base_url=settings.llm_base_url,
            api_key=self._api_key or "unused",
            timeout=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
        )
        self._cache = cache
        # A thread semaphore, not an asyncio one: it is valid in every thread and event loop.
        self._slots = threading.BoundedSemaphore(settings.llm_max_concurrency)
        self._json_mode = True
        self._lock = threading.Lock()
        self.stats = ChatStats()

    def complete(self, messages: Sequence[Message]) -> str:
        """The model's answer to ``messages``; from the cache when the same request was answered."""
        request = {"model": self.model, "messages": list(messages), "temperature": TEMPERATURE}
        key = request_hash(request)
        cached = self._cache.get(key)
        if cached is not None:
            self._count("cache_hits")
            return cached
        with self._slots:
            content = self._create(messages)
        self._count("requests")
        if content:
            self._cache.set(key, content)
        return content

    def records(self, messages: Sequence[Message], field: str) -> tuple[str, list[Record]]:
        """The raw answer and its records; an unparseable answer counts as no records."""
        content = self.complete(messages)
        parsed = parse_records(content, field)
        if parsed is None:
            self._count("unparseable")
            logger.warning(
                "unparseable answer from %s (model %s) treated as no %s: %.200r",
                self.base_url,
                self.model,
                field,
                content,
            )
            return content, []
        return content, parsed

    def _create(self, messages: Sequence[Message]) -> str:
        try:
            try:
                return self._send(messages, json_mode=self._json_mode)
            except openai.BadRequestError:
                if not self._json_mode:
                    raise
                content = self._send(messages, json_mode=False)
                self._json_mode = False
                logger.info("%s rejects response_format; not sending it again", self.base_url)
                return content
        except openai.APIStatusError as exc:
            # from None: the server's message may echo the key, and chained causes get logged.
            raise self._status_error(exc) from None
        except openai.OpenAIError as exc:
            raise TransientError(
                f"{self._where()} did not answer after {self._max_retries} retries: "
                f"{type(exc).__name__}"
            ) from exc

    def _send(self, messages: Sequence[Message], *, json_mode: bool) -> str:
        extra: dict[str, Any] = {"response_format": {"type": "json_object"}} if json_mode else {}
        completion = self._openai.chat.completions.create(
            model=self.model,
            messages=cast(list[ChatCompletionMessageParam], list(messages)),
            temperature=TEMPERATURE,
            **extra,
        )
        if not completion.choices:
            return ""
        return completion.choices[0].message.content or ""

    def _status_error(self, exc: openai.APIStatusError) -> Exception:
        status = exc.status_code
        if status in _RETRYABLE or status >= 500:
            return TransientError(
                f"{self._where()} answered HTTP {status} after {self._max_retries} retries"
            )
        if status in (401, 403):
            return PermanentError(
                f"{self._where()} refused the credentials (HTTP {status}); check AIBOX_LLM_API_KEY"
            )
        detail = exc.message.replace(self._api_key, "***") if self._api_key else exc.message
        return PermanentError(
            f"{self._where()} rejected the request (HTTP {status}: {detail[:200]}); "
            "check AIBOX_LLM_BASE_URL and AIBOX_LLM_MODEL"
        )

    def _where(self) -> str:
        return f"the LLM endpoint {self.base_url} (model {self.model!r})"

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self.stats, name, getattr(self.stats, name) + 1)
