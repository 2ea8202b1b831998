"""Embedder registry, vector space ids and the hashing embedder: shape, norms, similarity."""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from pydantic import SecretStr

from aibox.errors import ConfigurationError
from aibox.pipeline.embedders import Embedder, HashingEmbedder, get_embedder, space_id
from aibox.pipeline.embedders import hashing as hashing_module
from aibox.pipeline.embedders.openai import OpenAIEmbedder
from aibox.pipeline.embedders.sentence_transformers import SentenceTransformerEmbedder
from aibox.settings import Settings

EN_TSMC = "TSMC is the world's largest contract chip maker, headquartered in Hsinchu, Taiwan."
EN_TSMC_2 = "The largest semiconductor foundry in the world, TSMC, has its headquarters in Hsinchu."
EN_CAT = "The cat sat on the mat and purred quietly in the warm afternoon sun."
EN_BANK = "The central bank raised interest rates again to fight persistent inflation."
ZH_TSMC = "台積電成立於1987年，總部位於新竹科學園區，是全球最大的晶圓代工廠。"
ZH_TSMC_2 = "全球最大的晶圓代工廠台積電，總部設在新竹科學園區，於1987年成立。"
ZH_ALIBABA = "阿里巴巴集团由马云于1999年在杭州创立，是中国最大的电子商务公司之一。"
ZH_BANK = "为了遏制通货膨胀，中央银行决定再次提高利率。"


def cosine(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    return float(a @ b)


def hashing(dim: int) -> Embedder:
    return get_embedder(Settings(embedder="hashing", embedding_dim=dim))


def test_get_embedder_builds_hashing() -> None:
    embedder = hashing(384)
    assert isinstance(embedder, HashingEmbedder)
    assert (embedder.name, embedder.dim, embedder.id) == ("hashing", 384, "hashing-384")
    embedder.load()  # nothing to load, but part of the interface


def test_get_embedder_builds_sentence_transformers_without_loading(tmp_path: Path) -> None:
    settings = Settings(embedder="sentence-transformers", st_model_path=tmp_path, st_batch_size=7)
    embedder = get_embedder(settings)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert (embedder.name, embedder.model_path, embedder.batch_size) == (
        "sentence-transformers",
        tmp_path.resolve(),
        7,
    )
    assert embedder.model_name == tmp_path.name


def test_get_embedder_builds_openai_without_a_request() -> None:
    settings = Settings(
        embedder="openai",
        openai_base_url="http://127.0.0.1:9/v1/",
        openai_embedding_model="bge-m3",
        openai_api_key=SecretStr("secret"),
        openai_embedding_batch_size=5,
    )
    embedder = get_embedder(settings)
    assert isinstance(embedder, OpenAIEmbedder)
    assert (embedder.name, embedder.base_url, embedder.model, embedder.batch_size) == (
        "openai",
        "http://127.0.0.1:9/v1",
        "bge-m3",
        5,
    )
    embedder.close()


def test_id_differs_by_dim() -> None:
    assert hashing(256).id != hashing(384).id


def test_unknown_embedder_lists_the_known_ones() -> None:
    with pytest.raises(
        ConfigurationError,
        match=r"unknown embedder 'bert'.*: hashing, openai, sentence-transformers$",
    ):
        get_embedder(Settings(embedder="bert"))


@pytest.mark.parametrize("dim", [0, -1])
def test_non_positive_dim_is_a_configuration_error(dim: int) -> None:
    with pytest.raises(ConfigurationError, match="AIBOX_EMBEDDING_DIM"):
        hashing(dim)


@pytest.mark.parametrize(
    ("kind", "model", "dim", "expected"),
    [
        ("openai", "nomic-embed-text", 768, "openai-nomic-embed-text-768"),
        ("openai", "BAAI/bge-m3:latest", 1024, "openai-BAAI-bge-m3-latest-1024"),
        (
            "sentence-transformers",
            "all-MiniLM-L6-v2",
            384,
            "sentence-transformers-all-MiniLM-L6-v2-384",
        ),
        ("openai", "模型 v1.5", 8, "openai-v1.5-8"),
    ],
)
def test_space_id_is_safe_in_a_redis_key(kind: str, model: str, dim: int, expected: str) -> None:
    assert space_id(kind, model, dim) == expected
    assert re.fullmatch(r"[A-Za-z0-9._-]+", expected)


def test_shape_dtype_and_unit_norm() -> None:
    texts = [EN_TSMC, ZH_TSMC, "x", "台", "   ", "a\x00b", "😀 emoji", "lone \ud800 surrogate"]
    vectors = hashing(128).embed(texts)
    assert vectors.shape == (len(texts), 128)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)


def test_empty_text_gives_a_zero_row_and_empty_input_an_empty_matrix() -> None:
    embedder = HashingEmbedder(64)
    vectors = embedder.embed(["", EN_CAT, ""])
    assert not vectors[0].any()
    assert not vectors[2].any()
    assert np.linalg.norm(vectors[1]) == pytest.approx(1.0)
    assert embedder.embed([]).shape == (0, 64)


def test_deterministic_across_instances() -> None:
    texts = [EN_TSMC, ZH_TSMC, EN_CAT, ""]
    first = HashingEmbedder(384).embed(texts)
    second = hashing(384).embed(tuple(texts))
    assert np.array_equal(first, second)


def test_hash_scheme_is_pinned() -> None:
    # These vectors only depend on the hashing scheme, never on the process (no built-in
    # hash()). If this test fails, the scheme changed: vectors already stored under the same
    # id would silently stop matching, so the embedder's id must change too.
    vectors = HashingEmbedder(32).embed(["ab", "台"])
    assert {int(i): float(np.sign(vectors[0][i])) for i in np.flatnonzero(vectors[0])} == {
        0: 1.0,
        5: -1.0,
        13: -1.0,
        17: -1.0,
        19: 1.0,
    }
    assert {int(i): float(np.sign(vectors[1][i])) for i in np.flatnonzero(vectors[1])} == {
        4: -1.0,
        10: 1.0,
        27: 1.0,
    }


def test_texts_do_not_leak_into_each_other(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(5)
    texts = ["".join(rng.choice("ab 台積") for _ in range(rng.randint(0, 40))) for _ in range(50)]
    embedder = HashingEmbedder(64)
    one_by_one = np.vstack([embedder.embed([t]) for t in texts])
    assert np.array_equal(embedder.embed(texts), one_by_one)
    monkeypatch.setattr(hashing_module, "_BATCH_CHARS", 37)
    assert np.array_equal(embedder.embed(texts), one_by_one)


def test_case_and_whitespace_are_folded() -> None:
    embedder = HashingEmbedder(256)
    a, b, c = embedder.embed(["Hello World\nAgain", "hELLO wORLD\tagain", "hello world again"])
    assert np.array_equal(a, b)
    assert np.array_equal(a, c)


@pytest.mark.parametrize(
    ("text", "paraphrase", "unrelated"),
    [
        (EN_TSMC, EN_TSMC_2, [EN_CAT, EN_BANK]),
        (ZH_TSMC, ZH_TSMC_2, [ZH_ALIBABA, ZH_BANK]),
    ],
)
def test_similar_texts_score_higher(text: str, paraphrase: str, unrelated: list[str]) -> None:
    vectors = hashing(384).embed([text, paraphrase, *unrelated])
    related_score = cosine(vectors[0], vectors[1])
    for other in vectors[2:]:
        assert related_score > cosine(vectors[0], other) + 0.1
