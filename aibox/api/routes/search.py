"""Semantic search over the caller's own files."""

from __future__ import annotations

from fastapi import APIRouter

from aibox.api.deps import CurrentUser, FilesDep
from aibox.api.schemas import Envelope, SearchHit, SearchRequest
from aibox.errors import EmbedderMismatchError, NotFoundError
from aibox.pipeline import runtime
from aibox.search import describe, find, other_embedders

router = APIRouter(prefix="/search", tags=["search"])


@router.post("", response_model=Envelope[list[SearchHit]])
def search(body: SearchRequest, user: CurrentUser, files: FilesDep) -> Envelope[list[SearchHit]]:
    """The chunks of the caller's files most similar to ``query``, best first."""
    if body.file_ids is not None:
        for file_id in body.file_ids:
            if files.get_owned(file_id, user.user_id) is None:
                raise NotFoundError(f"file {file_id} not found")
    others = other_embedders(user.user_id)
    if others:
        raise EmbedderMismatchError(
            f"search uses the embedder {runtime.embedder().id}, but some of your files are "
            f"indexed with another ({describe(others)}); re-vectorize them (POST "
            '/api/v1/files/{id}/regenerate with {"type": "vector"}) or switch AIBOX_EMBEDDER back'
        )
    found = find(user.user_id, body.query, body.k, body.file_ids)
    hits = [
        SearchHit(
            index=f.chunk.index,
            text=f.chunk.text,
            start=f.chunk.start,
            end=f.chunk.end,
            page=f.chunk.page,
            file_id=f.file_id,
            filename=f.filename,
            score=f.score,
        )
        for f in found
    ]
    return Envelope(data=hits)
