"""Semantic search over the caller's own files."""

from __future__ import annotations

from fastapi import APIRouter

from aibox.api.deps import ChunksDep, CurrentUser, FilesDep
from aibox.api.schemas import Envelope, SearchHit, SearchRequest
from aibox.errors import EmbedderMismatchError, NotFoundError
from aibox.pipeline import runtime
from aibox.pipeline.chunkstore import chunk_id
from aibox.services import vector_index

router = APIRouter(prefix="/search", tags=["search"])


@router.post("", response_model=Envelope[list[SearchHit]])
def search(
    body: SearchRequest, user: CurrentUser, files: FilesDep, chunks: ChunksDep
) -> Envelope[list[SearchHit]]:
    """The chunks of the caller's files most similar to ``query``, best first."""
    if body.file_ids is not None:
        for file_id in body.file_ids:
            if files.get_owned(file_id, user.user_id) is None:
                raise NotFoundError(f"file {file_id} not found")
    embedder = runtime.embedder()
    index = vector_index()
    stale = {e: n for e, n in index.embedders_in_use(user.user_id).items() if e != embedder.id}
    if stale:
        listing = ", ".join(f"{n} with {e}" for e, n in sorted(stale.items()))
        raise EmbedderMismatchError(
            f"search uses the embedder {embedder.id}, but some of your files are indexed "
            f"with another ({listing}); re-vectorize them (POST /api/v1/files/{{id}}/regenerate "
            'with {"type": "vector"}) or switch AIBOX_EMBEDDER back'
        )
    vector = embedder.embed([body.query])[0]
    hits = index.search(user.user_id, embedder.id, vector, body.k, body.file_ids)
    texts = chunks.get_many(chunk_id(h.file_id, h.chunk_index) for h in hits)
    names: dict[str, str | None] = {}
    results = []
    for hit in hits:
        if hit.file_id not in names:
            record = files.get_owned(hit.file_id, user.user_id)
            names[hit.file_id] = record.filename if record else None
        chunk = texts.get(chunk_id(hit.file_id, hit.chunk_index))
        filename = names[hit.file_id]
        if chunk is None or filename is None:
            continue  # a file being deleted: its vectors go last
        results.append(
            SearchHit(
                index=chunk.index,
                text=chunk.text,
                start=chunk.start,
                end=chunk.end,
                page=chunk.page,
                file_id=hit.file_id,
                filename=filename,
                score=hit.score,
            )
        )
    return Envelope(data=results)
