"""Embedders turn texts into vectors; one module per kind, chosen by name in the settings."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from aibox.errors import ConfigurationError
from aibox.pipeline.embedders.hashing import HashingEmbedder

if TYPE_CHECKING:
    from aibox.settings import Settings

__all__ = ["EMBEDDERS", "Embedder", "HashingEmbedder", "get_embedder", "l2_normalise", "space_id"]


class Embedder(Protocol):
    """Turns texts into fixed-size, L2-normalised float32 vectors."""

    @property
    def name(self) -> str:
        """Kind of embedder, e.g. ``hashing``."""
        ...

    @property
    def dim(self) -> int:
        """Length of every vector (may load the model or ask the endpoint first)."""
        ...

    @property
    def id(self) -> str:
        """Identifier of the vector space (kind, model, dim); vectors of two ids never mix."""
        ...

    def load(self) -> None:
        """Load the model or check the endpoint, once per process; idempotent, never at import."""
        ...

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Return an array of shape ``(len(texts), dim)``; rows are unit length or all zeros."""
        ...


def space_id(kind: str, model: str, dim: int) -> str:
    """``kind-model-dim`` for a Redis key: runs of ``-`` or other chars become one ``-``."""
    return re.sub(r"[^A-Za-z0-9._]+", "-", f"{kind}-{model}-{dim}")


def l2_normalise(matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Scale each row to unit length in place (all-zero rows stay zero) and return the matrix."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    np.divide(matrix, norms, out=matrix, where=norms > 0)
    return matrix


def _hashing(settings: Settings) -> Embedder:
    if settings.embedding_dim <= 0:
        raise ConfigurationError(
            f"embedding dim must be positive (AIBOX_EMBEDDING_DIM), got {settings.embedding_dim}"
        )
    return HashingEmbedder(settings.embedding_dim)


def _sentence_transformers(settings: Settings) -> Embedder:
    from aibox.pipeline.embedders.sentence_transformers import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(
        settings.st_model_path,
        batch_size=settings.st_batch_size,
        num_threads=settings.st_num_threads,
    )


def _openai(settings: Settings) -> Embedder:
    from aibox.pipeline.embedders.openai import OpenAIEmbedder

    return OpenAIEmbedder(
        base_url=settings.openai_base_url,
        model=settings.openai_embedding_model,
        api_key=settings.openai_api_key.get_secret_value(),
        batch_size=settings.openai_embedding_batch_size,
        timeout_s=settings.openai_timeout_s,
        max_retries=settings.openai_max_retries,
    )


EMBEDDERS: dict[str, Callable[[Settings], Embedder]] = {
    HashingEmbedder.name: _hashing,
    "sentence-transformers": _sentence_transformers,
    "openai": _openai,
}


def get_embedder(settings: Settings) -> Embedder:
    """Build the embedder that ``settings.embedder`` names (not loaded yet: call ``load()``)."""
    factory = EMBEDDERS.get(settings.embedder)
    if factory is None:
        known = ", ".join(sorted(EMBEDDERS))
        raise ConfigurationError(
            f"unknown embedder {settings.embedder!r}: set AIBOX_EMBEDDER to one of: {known}"
        )
    return factory(settings)
