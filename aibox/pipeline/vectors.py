"""Chunk vectors in Redis vector sets: one set per user and embedder.

Element names are chunk ids (``file_id:index``), so re-adding a file's vectors overwrites its
elements in place (VADD updates an existing element). Elements past the file's new chunk
count are removed afterwards: replace, then remove — a crash in between leaves extra elements
that the next run removes, never missing ones.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import redis

from aibox import keys
from aibox.pipeline.chunkstore import chunk_id

_BATCH = 500


class VectorIndex:
    """Adds, removes and searches chunk vectors."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def add(
        self, user_id: str, embedder_id: str, file_id: str, first: int, vectors: np.ndarray
    ) -> None:
        """Add (or overwrite) the vectors of a file's chunks ``first, first+1, ...``."""
        key = keys.vector_set(user_id, embedder_id)
        data = np.ascontiguousarray(vectors, dtype=np.float32)
        for start in range(0, len(data), _BATCH):
            pipe = self.client.pipeline(transaction=False)
            vset = pipe.vset()
            for row in range(start, min(start + _BATCH, len(data))):
                index = first + row
                attrs = {"file_id": file_id, "chunk": index}
                vset.vadd(key, data[row].tobytes(), chunk_id(file_id, index), attributes=attrs)
            pipe.execute()

    def remove(self, user_id: str, embedder_id: str, file_id: str, indices: Iterable[int]) -> None:
        """Remove the given chunk indices of a file (absent ones are ignored)."""
        key = keys.vector_set(user_id, embedder_id)
        pipe = self.client.pipeline(transaction=False)
        vset = pipe.vset()
        for n, index in enumerate(indices, 1):
            vset.vrem(key, chunk_id(file_id, index))
            if n % _BATCH == 0:
                pipe.execute()
        pipe.execute()

    def count(self, user_id: str, embedder_id: str) -> int:
        """How many vectors the user's set for this embedder holds."""
        return int(self.client.vset().vcard(keys.vector_set(user_id, embedder_id)))
