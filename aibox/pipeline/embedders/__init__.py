"""Embedders turn texts into vectors; one module per kind, chosen by name in the settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from aibox.errors import ConfigurationError
from aibox.pipeline.embedders.hashing import HashingEmbedder

__all__ = ["EMBEDDERS", "Embedder", "HashingEmbedder", "get_embedder"]


class Embedder(Protocol):
    """Turns texts into fixed-size, L2-normalised float32 vectors."""

    @property
    def name(self) -> str:
        """Kind of embedder, e.g. ``hashing``."""
        ...

    @property
    def dim(self) -> int:
        """Length of every vector."""
        ...

    @property
    def id(self) -> str:
        """Identifier of the vector space (kind, model, dim); vectors of two ids never mix."""
        ...

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Return an array of shape ``(len(texts), dim)``; rows are unit length or all zeros."""
        ...


EMBEDDERS: dict[str, Callable[[int], Embedder]] = {
    HashingEmbedder.name: HashingEmbedder,
}


def get_embedder(name: str, *, dim: int) -> Embedder:
    """Build the embedder called ``name`` producing ``dim``-dimensional vectors."""
    factory = EMBEDDERS.get(name)
    if factory is None:
        known = ", ".join(sorted(EMBEDDERS))
        raise ConfigurationError(
            f"unknown embedder {name!r}: set AIBOX_EMBEDDER to one of: {known}"
        )
    if dim <= 0:
        raise ConfigurationError(f"embedding dim must be positive (AIBOX_EMBEDDING_DIM), got {dim}")
    return factory(dim)
