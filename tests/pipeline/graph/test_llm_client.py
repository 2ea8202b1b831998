"""The chat client against the fake endpoint: retries, error mapping, JSON mode, concurrency.

The real endpoint is a remote OpenAI-compatible service that cannot exist here; a local HTTP
server speaking the chat-completions protocol stands in for it, with injected failures.
"""

from __future__ import annotations

import json
import threading
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from aibox.errors import PermanentError, TransientError
from aibox.pipeline.graph.llm import LLMExtractor
from aibox.pipeline.graph.llm.client import ChatClient
from aibox.settings import Settings
from aibox.store.llm_cache import ResponseCache
from tests.fakes.chat_server import FakeChatServer
from tests.pipeline.graph.helpers import chunks_of
from tests.support import free_port

KEY = "sk-very-secret-key-123"
ANSWER = '{"entities": []}'
MESSAGES = [{"role": "user", "content": "Find the entities in: Apple."}]


def settings_for(base_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "llm_base_url": base_url,
        "llm_model": "fake-chat",
        "llm_api_key": SecretStr(KEY),
        "llm_cache_ttl_s": 0,
        "llm_timeout_s": 10.0,
        "llm_max_retries": 2,
    }
    return Settings(**(values | overrides))


def no_redis() -> Any:
    raise AssertionError("the cache is disabled and must not connect")


def client_for(base_url: str, **overrides: Any) -> ChatClient:
    return ChatClient(settings_for(base_url, **overrides), ResponseCache(no_redis, 0))


@pytest.fixture
def server() -> Iterator[FakeChatServer]:
    with FakeChatServer(lambda messages: ANSWER, api_key=KEY) as fake:
        yield fake


def test_answer_comes_back(server: FakeChatServer) -> None:
    client = client_for(server.url)
    assert client.complete(MESSAGES) == ANSWER
    assert client.stats.requests == 1
    assert server.requests[0]["messages"] == MESSAGES


@pytest.mark.parametrize("status", [500, 503, 429])
def test_failures_are_retried_then_succeed(server: FakeChatServer, status: int) -> None:
    server.fail_next(2, status)
    assert client_for(server.url, llm_max_retries=2).complete(MESSAGES) == ANSWER
    assert len(server.requests) == 3


@pytest.mark.parametrize("status", [500, 429])
def test_persistent_failure_is_transient(server: FakeChatServer, status: int) -> None:
    server.fail_next(3, status)
    with pytest.raises(TransientError, match=f"HTTP {status}") as caught:
        client_for(server.url, llm_max_retries=2).complete(MESSAGES)
    assert server.url in str(caught.value)
    assert "fake-chat" in str(caught.value)
    assert len(server.requests) == 3


def test_timeout_is_transient(server: FakeChatServer) -> None:
    server.delay_next(1, 5.0)
    client = client_for(server.url, llm_timeout_s=0.2, llm_max_retries=0)
    with pytest.raises(TransientError, match="did not answer"):
        client.complete(MESSAGES)


def test_unreachable_endpoint_is_transient() -> None:
    client = client_for(f"http://127.0.0.1:{free_port()}/v1", llm_max_retries=0)
    with pytest.raises(TransientError, match="APIConnectionError"):
        client.complete(MESSAGES)


def test_wrong_key_is_permanent_and_the_key_is_never_shown(server: FakeChatServer) -> None:
    wrong = "sk-wrong-but-still-secret-456"
    with pytest.raises(PermanentError) as caught:
        client_for(server.url, llm_api_key=SecretStr(wrong)).complete(MESSAGES)
    message = str(caught.value)
    assert "HTTP 401" in message
    assert server.url in message
    assert "fake-chat" in message
    assert "AIBOX_LLM_API_KEY" in message
    shown = "".join(traceback.format_exception(caught.value))
    assert wrong not in shown  # the server echoed it back
    assert len(server.requests) == 1  # not retried


def test_unknown_model_is_permanent_and_named(server: FakeChatServer) -> None:
    with pytest.raises(PermanentError, match="HTTP 404") as caught:
        client_for(server.url, llm_model="no-such-model").complete(MESSAGES)
    assert "no-such-model" in str(caught.value)
    assert KEY not in "".join(traceback.format_exception(caught.value))


def test_json_mode_is_dropped_when_the_endpoint_rejects_it(server: FakeChatServer) -> None:
    server.reject_response_format = True
    client = client_for(server.url)
    assert client.complete(MESSAGES) == ANSWER
    assert client.complete([*MESSAGES, {"role": "user", "content": "Again."}]) == ANSWER
    sent = ["response_format" in body for body in server.requests]
    assert sent == [True, False, False]


def test_unparseable_answers_are_counted() -> None:
    with FakeChatServer(lambda messages: "No JSON from me.") as server:
        client = client_for(server.url)
        assert client.records(MESSAGES, "entities") == ("No JSON from me.", [])
    assert client.stats.unparseable == 1


def test_concurrent_requests_never_exceed_the_limit() -> None:
    """Two files extracted at once by one extractor still share its limit of 2 requests."""

    def no_entities(messages: list[dict[str, Any]]) -> str:
        return json.dumps({"entities": []})

    texts = [f"Document {n} mentions nobody at all." for n in range(8)]
    with FakeChatServer(no_entities) as server:
        server.gather = 2  # each answer waits for a second request, so the limit is reached
        server.hold_s = 0.05  # and then lingers, so requests beyond the limit would pile up
        settings = settings_for(server.url, llm_max_concurrency=2, llm_gleaning_passes=0)
        extractor = LLMExtractor(settings, cache=ResponseCache(no_redis, 0))
        errors: list[BaseException] = []

        def run(part: list[str]) -> None:
            try:
                extractor.extract(chunks_of(*part))
            except BaseException as exc:  # surfaced by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(texts[i::2],)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert len(server.requests) == 8
    assert server.max_in_flight == 2
