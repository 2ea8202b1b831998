"""The Redis cache of chat answers: hits on identical requests, bypass when Redis is down.

The chat endpoint is the local fake (the real one is a remote service that cannot exist here);
Redis is the private test server from conftest.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from pydantic import SecretStr
from redis.backoff import NoBackoff
from redis.retry import Retry

from aibox import keys
from aibox.connections import get_redis
from aibox.pipeline.graph.llm import LLMExtractor, prompts
from aibox.pipeline.graph.llm.answers import request_hash
from aibox.pipeline.types import Chunk
from aibox.settings import Settings
from aibox.store.llm_cache import ResponseCache
from tests.fakes.chat_server import FakeChatServer
from tests.pipeline.graph.helpers import chunks_of
from tests.support import free_port

TTL_S = 600


def apple_model(messages: list[dict[str, Any]]) -> str:
    """Finds Apple and Steve Jobs in any chunk, relates them, types the relation FOUNDED."""
    system = messages[0]["content"]
    if system == prompts.RE_SYSTEM:
        answer = [{"subject": "Steve Jobs", "object": "Apple", "description": "founded"}]
        return json.dumps({"relations": answer})
    if system == prompts.RT_SYSTEM:
        return json.dumps({"relations": [{"id": 1, "type": "FOUNDED", "direction": "A->B"}]})
    if len(messages) > 2:  # gleaning
        return json.dumps({"entities": []})
    found = [{"name": "Apple", "type": "ORGANIZATION"}, {"name": "Steve Jobs", "type": "PERSON"}]
    return json.dumps({"entities": found})


def settings_for(server: FakeChatServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "llm_base_url": server.url,
        "llm_model": "fake-chat",
        "llm_api_key": SecretStr("sk-test"),
        "llm_cache_ttl_s": TTL_S,
        "llm_max_retries": 0,
    }
    return Settings(**(values | overrides))


@pytest.fixture
def server() -> Iterator[FakeChatServer]:
    with FakeChatServer(apple_model, models=("fake-chat", "other-chat")) as fake:
        yield fake


def redis_cache() -> ResponseCache:
    """The cache workers give the extractor: aibox's Redis."""
    return ResponseCache(get_redis, TTL_S)


@pytest.fixture
def chunks() -> list[Chunk]:
    return chunks_of("Steve Jobs founded Apple.", "Apple grew fast.")


def test_identical_requests_are_answered_from_redis(
    redis_client: Any, server: FakeChatServer, chunks: list[Chunk]
) -> None:
    first = LLMExtractor(settings_for(server), cache=redis_cache())
    expected = first.extract(chunks)
    sent = len(server.requests)
    assert sent == first.stats.requests > 0
    assert expected.relations[0].type == "FOUNDED"

    second = LLMExtractor(settings_for(server), cache=redis_cache())
    assert second.extract(chunks) == expected
    assert len(server.requests) == sent  # the endpoint saw nothing new
    assert second.stats.cache_hits == sent
    assert second.stats.requests == 0

    cached = list(redis_client.scan_iter(match=keys.llm_answer("*")))
    assert len(cached) == sent
    assert all(0 < redis_client.ttl(key) <= TTL_S for key in cached)


def test_a_different_model_is_not_answered_from_the_cache(
    redis_client: Any, server: FakeChatServer, chunks: list[Chunk]
) -> None:
    LLMExtractor(settings_for(server), cache=redis_cache()).extract(chunks)
    sent = len(server.requests)
    other = LLMExtractor(settings_for(server, llm_model="other-chat"), cache=redis_cache())
    other.extract(chunks)
    assert other.stats.cache_hits == 0
    assert len(server.requests) == 2 * sent


def test_redis_down_means_no_cache_not_failure(
    server: FakeChatServer, chunks: list[Chunk], caplog: pytest.LogCaptureFixture
) -> None:
    closed = free_port()

    def unreachable() -> redis.Redis:
        return redis.Redis(port=closed, retry=Retry(NoBackoff(), 0), socket_connect_timeout=1)

    with caplog.at_level(logging.WARNING):
        first = LLMExtractor(settings_for(server), cache=ResponseCache(unreachable, TTL_S))
        expected = first.extract(chunks)
        sent = len(server.requests)
        second = LLMExtractor(settings_for(server), cache=ResponseCache(unreachable, TTL_S))
        assert second.extract(chunks) == expected
    assert expected.relations
    assert len(server.requests) == 2 * sent
    assert second.stats.cache_hits == 0
    assert "Redis unavailable" in caplog.text


def test_key_depends_on_the_request_only() -> None:
    request = {"model": "m", "messages": [{"role": "user", "content": "馬雲"}], "temperature": 0}
    same = {"temperature": 0, "messages": [{"role": "user", "content": "馬雲"}], "model": "m"}
    other = request | {"messages": [{"role": "user", "content": "马云"}]}
    assert request_hash(request) == request_hash(same)
    assert request_hash(request) != request_hash(other)
    assert len(request_hash(request)) == 64


def test_ttl_zero_disables_the_cache() -> None:
    def never() -> redis.Redis:
        raise AssertionError("a disabled cache must not connect")

    cache = ResponseCache(never, 0)
    cache.set("k", "v")
    assert cache.get("k") is None
