"""The caller's knowledge graph: find entities, walk their relations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from aibox.api.deps import CurrentUser, GraphDep
from aibox.api.schemas import (
    EntityChunkPublic,
    EntityPublic,
    Envelope,
    TriplePublic,
    triple_public,
)
from aibox.errors import NotFoundError
from aibox.search_graph import entity_chunks

router = APIRouter(prefix="/graph", tags=["graph"])


@router.get("/entities", response_model=Envelope[list[EntityPublic]])
def find_entities(
    user: CurrentUser,
    graph: GraphDep,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Envelope[list[EntityPublic]]:
    """Entities whose name contains ``q`` (case- and Traditional/Simplified-insensitive)."""
    rows = graph.find_entities(user.user_id, q, limit=limit)
    return Envelope(
        data=[EntityPublic(id=r.id, name=r.name, type=r.type, files=r.files) for r in rows]
    )


@router.get("/entities/{entity_id}/neighbors", response_model=Envelope[list[TriplePublic]])
def neighbors(
    entity_id: str,
    user: CurrentUser,
    graph: GraphDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Envelope[list[TriplePublic]]:
    """The entity's relations to other entities, in both directions, most confident first."""
    if graph.entity(user.user_id, entity_id) is None:
        raise NotFoundError(f"entity {entity_id} not found")
    triples = graph.neighbors(user.user_id, entity_id, limit=limit)
    return Envelope(data=[triple_public(t) for t in triples])


@router.get("/entities/{entity_id}/chunks", response_model=Envelope[list[EntityChunkPublic]])
def chunks(
    entity_id: str,
    user: CurrentUser,
    graph: GraphDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Envelope[list[EntityChunkPublic]]:
    """The chunks that mention the entity or hold one of its relations, in document order."""
    if graph.entity(user.user_id, entity_id) is None:
        raise NotFoundError(f"entity {entity_id} not found")
    return Envelope(
        data=[
            EntityChunkPublic(
                index=c.chunk.index,
                text=c.chunk.text,
                start=c.chunk.start,
                end=c.chunk.end,
                page=c.chunk.page,
                file_id=c.file_id,
                filename=c.filename,
            )
            for c in entity_chunks(user.user_id, entity_id, limit=limit)
        ]
    )
