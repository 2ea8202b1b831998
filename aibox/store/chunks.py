"""Chunk texts and offsets in Redis, one hash per file, replaced atomically."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from typing import cast

import redis

from aibox import keys
from aibox.pipeline.types import Chunk


def chunk_id(file_id: str, index: int) -> str:
    """The deterministic id of a file's chunk: reprocessing replaces, never duplicates."""
    return f"{file_id}:{index}"


class ChunkStore:
    """Stores each file's chunks; a new set replaces the old one in one RENAME."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def replace(self, file_id: str, chunks: Sequence[Chunk]) -> None:
        """Make ``chunks`` the file's chunks, atomically (readers see old or new, never a mix)."""
        key = keys.chunks(file_id)
        if not chunks:
            self.client.delete(key)
            return
        staging = f"{key}:staging:{uuid.uuid4().hex}"
        pipe = self.client.pipeline(transaction=True)
        for start in range(0, len(chunks), 1000):
            batch = chunks[start : start + 1000]
            pipe.hset(staging, mapping={str(c.index): _encode(c) for c in batch})
        pipe.rename(staging, key)
        pipe.execute()

    def load(self, file_id: str) -> list[Chunk]:
        """The file's chunks in index order (empty if none are stored)."""
        raw = cast(dict[str, str], self.client.hgetall(keys.chunks(file_id)))
        chunks = [_decode(int(index), value) for index, value in raw.items()]
        return sorted(chunks, key=lambda c: c.index)

    def window(self, file_id: str, offset: int, limit: int) -> list[Chunk]:
        """Chunks ``offset .. offset+limit-1`` of a file (fewer at the end)."""
        indices = [str(i) for i in range(offset, offset + limit)]
        values = cast(list[str | None], self.client.hmget(keys.chunks(file_id), indices))
        return [_decode(int(i), v) for i, v in zip(indices, values, strict=True) if v is not None]

    def get_many(self, ids: Iterable[str]) -> dict[str, Chunk]:
        """Chunks by chunk id (``file_id:index``); ids not found are left out."""
        pairs = [(cid, *cid.rsplit(":", 1)) for cid in ids]
        pipe = self.client.pipeline(transaction=False)
        for _, file_id, index in pairs:
            pipe.hget(keys.chunks(file_id), index)
        found = {}
        for (cid, _, index), value in zip(pairs, pipe.execute(), strict=True):
            if value is not None:
                found[cid] = _decode(int(index), value)
        return found

    def count(self, file_id: str) -> int:
        """How many chunks the file has stored."""
        return int(self.client.hlen(keys.chunks(file_id)))

    def delete(self, file_id: str) -> None:
        """Remove the file's chunks."""
        self.client.delete(keys.chunks(file_id))


def _encode(chunk: Chunk) -> str:
    data = {"text": chunk.text, "start": chunk.start, "end": chunk.end, "page": chunk.page}
    return json.dumps(data, ensure_ascii=False)


def _decode(index: int, value: str) -> Chunk:
    data = json.loads(value)
    return Chunk(index, data["text"], data["start"], data["end"], data.get("page"))
