"""The OpenAI-compatible embedder against a fake /v1/embeddings server (see tests/fakes)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
import numpy.typing as npt
import pytest
from pydantic import SecretStr

from aibox.errors import (
    ConfigurationError,
    EmbedderMismatchError,
    PermanentError,
    TransientError,
)
from aibox.pipeline.embedders import get_embedder
from aibox.pipeline.embedders.openai import OpenAIEmbedder
from aibox.settings import Settings
from tests.fakes.embeddings_server import FakeEmbeddingsServer, vector_for
from tests.support import free_port

MODEL = "fake-embed"
KEY = "sk-test-0123456789abcdef"
TEXTS = [f"chunk number {i}: " + "word " * i for i in range(10)]

MakeEmbedder = Callable[..., OpenAIEmbedder]


@pytest.fixture
def server() -> Iterator[FakeEmbeddingsServer]:
    with FakeEmbeddingsServer(dim=16, models=(MODEL,), api_key=KEY) as fake:
        yield fake


@pytest.fixture
def make_embedder(server: FakeEmbeddingsServer) -> Iterator[MakeEmbedder]:
    """Build embedders for the fake server (closed after the test)."""
    built: list[OpenAIEmbedder] = []

    def make(**overrides: object) -> OpenAIEmbedder:
        options: dict[str, object] = {
            "base_url": server.url,
            "model": MODEL,
            "api_key": KEY,
            "batch_size": 4,
            "timeout_s": 5.0,
            "max_retries": 2,
        } | overrides
        embedder = OpenAIEmbedder(**options)  # type: ignore[arg-type]
        built.append(embedder)
        return embedder

    yield make
    for embedder in built:
        embedder.close()


def expected_rows(texts: list[str], dim: int = 16) -> npt.NDArray[np.float32]:
    rows = np.array([vector_for(t, dim) for t in texts], dtype=np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


def test_batches_into_one_request_per_batch(
    server: FakeEmbeddingsServer, make_embedder: MakeEmbedder
) -> None:
    embedder = make_embedder()
    embedder.load()
    server.requests.clear()
    embedder.embed(TEXTS)
    assert len(server.requests) == math.ceil(len(TEXTS) / 4)
    assert [r["input"] for r in server.requests] == [TEXTS[0:4], TEXTS[4:8], TEXTS[8:10]]
    assert {(r["model"], r["encoding_format"]) for r in server.requests} == {(MODEL, "float")}


def test_order_restored_from_index_and_rows_normalised(
    server: FakeEmbeddingsServer, make_embedder: MakeEmbedder
) -> None:
    server.shuffle = True
    vectors = make_embedder(batch_size=64).embed(TEXTS)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, expected_rows(TEXTS), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)


def test_empty_texts_are_zero_rows_and_never_sent(
    server: FakeEmbeddingsServer, make_embedder: MakeEmbedder
) -> None:
    vectors = make_embedder().embed(["", TEXTS[1], ""])
    assert [r["input"] for r in server.requests] == [[TEXTS[1]]]
    assert not vectors[0].any()
    assert not vectors[2].any()
    np.testing.assert_allclose(vectors[1], expected_rows([TEXTS[1]])[0], atol=1e-6)


def test_load_learns_the_dim_once(
    server: FakeEmbeddingsServer, make_embedder: MakeEmbedder
) -> None:
    embedder = make_embedder()
    embedder.load()
    embedder.load()
    assert len(server.requests) == 1
    assert (embedder.dim, embedder.id) == (16, "openai-fake-embed-16")
    assert embedder.embed([]).shape == (0, 16)
    assert len(server.requests) == 1


def test_a_changed_dim_is_refused(
    server: FakeEmbeddingsServer, make_embedder: MakeEmbedder
) -> None:
    embedder = make_embedder()
    embedder.load()
    server.dim = 8
    with pytest.raises(EmbedderMismatchError, match="8-dim vectors instead of 16"):
        embedder.embed(TEXTS[:2])


def test_empty_key_sends_a_placeholder(make_embedder: MakeEmbedder) -> None:
    with FakeEmbeddingsServer(models=(MODEL,), api_key="unused") as local:
        embedder = make_embedder(base_url=local.url, api_key="")
        assert embedder.embed(["hello"]).shape == (1, 16)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_transient_failures_are_retried_by_the_client(
    server: FakeEmbeddingsServer, make_embedder: MakeEmbedder, status: int
) -> None:
    server.fail_next(2, status)
    vectors = make_embedder(max_retries=2).embed(TEXTS[:3])
    assert len(server.requests) == 3
    np.testing.assert_allclose(vectors, expected_rows(TEXTS[:3]), atol=1e-6)


@pytest.mark.parametrize("status", [500, 429])
def test_persistent_failures_raise_transient_error(
    server: FakeEmbeddingsServer, make_embedder: MakeEmbedder, status: int
) -> None:
    server.fail_next(10, status)
    with pytest.raises(TransientError, match=rf"{server.url}.*'{MODEL}'.*{status}"):
        make_embedder(max_retries=2).embed(TEXTS[:3])
    assert len(server.requests) == 3


def test_a_slow_answer_is_retried_after_the_timeout(
    server: FakeEmbeddingsServer, make_embedder: MakeEmbedder
) -> None:
    server.delay_next(1, 10)
    vectors = make_embedder(timeout_s=0.3, max_retries=1).embed(TEXTS[:2])
    assert len(server.requests) == 2
    np.testing.assert_allclose(vectors, expected_rows(TEXTS[:2]), atol=1e-6)


def test_persistent_timeouts_raise_transient_error(
    server: FakeEmbeddingsServer, make_embedder: MakeEmbedder
) -> None:
    server.delay_next(2, 10)
    with pytest.raises(TransientError, match=rf"{server.url}.*'{MODEL}'.*retries"):
        make_embedder(timeout_s=0.3, max_retries=1).embed(TEXTS[:2])
    assert len(server.requests) == 2


def test_an_unreachable_endpoint_raises_transient_error(make_embedder: MakeEmbedder) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(TransientError, match=rf"{url}.*unreachable"):
        make_embedder(base_url=url, max_retries=0).load()


def test_a_wrong_key_fails_at_once_without_leaking_it(
    server: FakeEmbeddingsServer, make_embedder: MakeEmbedder
) -> None:
    wrong = "sk-wrong-key-do-not-log-me"
    with pytest.raises(ConfigurationError) as caught:
        make_embedder(api_key=wrong).embed(TEXTS[:1])
    message = str(caught.value)
    assert len(server.requests) == 1
    assert MODEL in message
    assert server.url in message
    assert "401" in message
    assert "AIBOX_OPENAI_API_KEY" in message
    assert wrong not in message
    assert KEY not in message


def test_an_unknown_model_fails_at_once_naming_it(
    server: FakeEmbeddingsServer, make_embedder: MakeEmbedder
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        make_embedder(model="no-such-model").load()
    message = str(caught.value)
    assert len(server.requests) == 1
    assert "'no-such-model'" in message
    assert "404" in message
    assert "AIBOX_OPENAI_EMBEDDING_MODEL" in message
    assert KEY not in message


def test_a_refused_request_is_a_permanent_error(
    server: FakeEmbeddingsServer, make_embedder: MakeEmbedder
) -> None:
    server.fail_next(1, 400)
    with pytest.raises(PermanentError, match=rf"'{MODEL}'.*400"):
        make_embedder().embed(TEXTS[:1])
    assert len(server.requests) == 1


def test_get_embedder_uses_the_openai_settings(server: FakeEmbeddingsServer) -> None:
    settings = Settings(
        embedder="openai",
        openai_base_url=server.url,
        openai_api_key=SecretStr(KEY),
        openai_embedding_model=MODEL,
        openai_embedding_batch_size=3,
    )
    embedder = get_embedder(settings)
    assert isinstance(embedder, OpenAIEmbedder)
    try:
        embedder.embed(TEXTS[:7])
    finally:
        embedder.close()
    assert [len(r["input"]) for r in server.requests] == [3, 3, 1]
    assert embedder.id == "openai-fake-embed-16"


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ConfigurationError, match="AIBOX_OPENAI_EMBEDDING_BATCH_SIZE"):
        OpenAIEmbedder(base_url="http://127.0.0.1:9/v1", model=MODEL, batch_size=0)
