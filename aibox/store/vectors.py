"""Chunk vectors in Redis vector sets: one set per user and embedder.

Element names are chunk ids (``file_id:index``), so re-adding a file's vectors overwrites its
elements in place (VADD updates an existing element). Elements past the file's new chunk
count are removed afterwards: replace, then remove — a crash in between leaves extra elements
that the next run removes, never missing ones.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import redis

from aibox import keys
from aibox.store.chunks import chunk_id

_BATCH = 500


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: a chunk and VSIM's similarity score (1 = identical, 0 = opposite)."""

    file_id: str
    chunk_index: int
    score: float


class VectorIndex:
    """Adds, removes and searches chunk vectors, and knows which embedder indexed each file."""

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

    def search(
        self,
        user_id: str,
        embedder_id: str,
        vector: np.ndarray,
        k: int,
        file_ids: Sequence[str] | None = None,
    ) -> list[Hit]:
        """The ``k`` chunks most similar to ``vector``, best first, optionally in some files."""
        key = keys.vector_set(user_id, embedder_id)
        blob = np.ascontiguousarray(vector, dtype=np.float32).tobytes()
        options: dict[str, Any] = {"with_scores": True, "count": k}
        if file_ids is not None:
            if not file_ids:
                return []
            # Ids are aibox's own hex ids (checked by the caller), so json.dumps quoting is safe.
            options["filter"] = f".file_id in {json.dumps(list(file_ids))}"
        if not self.client.exists(key):
            # VSIM on a missing key answers an empty array, which redis-py's parser rejects.
            return []
        reply = cast(dict[str, float] | None, self.client.vset().vsim(key, blob, **options))
        hits = []
        for element, similarity in (reply or {}).items():
            file_id, index = element.rsplit(":", 1)
            hits.append(Hit(file_id, int(index), float(similarity)))
        return hits

    def record_embedder(self, user_id: str, file_id: str, embedder_id: str) -> None:
        """Remember which embedder the file's vectors are in."""
        self.client.hset(keys.user_file_embedders(user_id), file_id, embedder_id)

    def forget_file(self, user_id: str, file_id: str) -> None:
        """Forget the file in the user's embedder index."""
        self.client.hdel(keys.user_file_embedders(user_id), file_id)

    def embedders_in_use(self, user_id: str) -> Counter[str]:
        """How many of the user's files are indexed with each embedder."""
        values = cast(list[str], self.client.hvals(keys.user_file_embedders(user_id)))
        return Counter(values)
