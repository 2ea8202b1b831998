"""Search over the caller's own files: full text, vectors, their fusion and the graph."""

from __future__ import annotations

from fastapi import APIRouter

from aibox import processing
from aibox.api.deps import CurrentUser, FilesDep
from aibox.api.schemas import (
    EntityPublic,
    GraphContextPublic,
    RankPublic,
    SearchEnvelope,
    SearchHit,
    SearchRequest,
    triple_public,
)
from aibox.errors import EmbedderMismatchError, NotFoundError
from aibox.search import describe, find, other_embedders, uses_vectors

router = APIRouter(prefix="/search", tags=["search"])


@router.post("", response_model=SearchEnvelope)
def search(body: SearchRequest, user: CurrentUser, files: FilesDep) -> SearchEnvelope:
    """The chunks of the caller's files that best answer ``query``, best first."""
    if body.file_ids is not None:
        for file_id in body.file_ids:
            if files.get_owned(file_id, user.user_id) is None:
                raise NotFoundError(f"file {file_id} not found")
    others = other_embedders(user.user_id) if uses_vectors(body.mode) else {}
    if others:
        raise EmbedderMismatchError(
            f"search uses the embedder {processing.embedder().id}, but some of your files are "
            f"indexed with another ({describe(others)}); re-vectorize them (POST "
            '/api/v1/files/{id}/regenerate with {"type": "vector"}), switch AIBOX_EMBEDDER back '
            'or search with "mode": "fulltext"'
        )
    results = find(
        user.user_id, body.query, body.k, body.file_ids, mode=body.mode, graph=body.graph
    )
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
            found_by={
                name: RankPublic(rank=p.rank, score=p.score) for name, p in f.found_by.items()
            },
        )
        for f in results.found
    ]
    graph = None
    if results.graph is not None:
        graph = GraphContextPublic(
            entities=[
                EntityPublic(id=e.id, name=e.name, type=e.type, files=e.files)
                for e in results.graph.entities
            ],
            relations=[triple_public(t) for t in results.graph.relations],
        )
    return SearchEnvelope(data=hits, graph=graph)
