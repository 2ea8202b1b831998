"""Read queries on a user's knowledge graph. All Cypher here is parametrised: user input only
ever travels as parameters, never inside the query text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aibox.pipeline.graph.normalise import normalise_key
from aibox.store.graph import GraphStore


@dataclass(frozen=True, slots=True)
class EntityRow:
    """An entity and how many files mention it."""

    id: str
    name: str
    type: str
    files: int


@dataclass(frozen=True, slots=True)
class TripleRow:
    """A typed relation with its provenance."""

    source: EntityRow
    type: str
    target: EntityRow
    file_id: str
    chunk: int
    evidence: str
    confidence: float


@dataclass(frozen=True, slots=True)
class MentionRow:
    """The chunks of one file that mention an entity."""

    entity_id: str
    file_id: str
    chunks: tuple[int, ...]


_TRIPLE = (
    "RETURN a.id, a.name, a.type, type(r), b.id, b.name, b.type, r.file_id, r.chunk, "
    "r.evidence, r.confidence ORDER BY r.confidence DESC, a.name, b.name LIMIT $limit"
)


class GraphQueries:
    """Answers the API's graph questions for one user at a time."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store

    def file_triples(self, user_id: str, file_id: str, *, limit: int) -> list[TripleRow]:
        """The relations one file contributed, most confident first."""
        rows = (
            self.store.graph(user_id)
            .ro_query(
                "MATCH (d:Document {file_id: $file_id})<-[:MENTIONED_IN]-(a:Entity) "
                "MATCH (a)-[r]->(b:Entity) WHERE r.file_id = $file_id " + _TRIPLE,
                {"file_id": file_id, "limit": limit},
            )
            .result_set
        )
        return [_triple(row) for row in rows]

    def find_entities(self, user_id: str, query: str, *, limit: int) -> list[EntityRow]:
        """Entities whose normalised name contains the normalised query, most mentioned first."""
        rows = (
            self.store.graph(user_id)
            .ro_query(
                "MATCH (e:Entity) WHERE e.key CONTAINS $q "
                "OPTIONAL MATCH (e)-[:MENTIONED_IN]->(d:Document) "
                "RETURN e.id, e.name, e.type, count(d) AS files "
                "ORDER BY files DESC, e.name LIMIT $limit",
                {"q": normalise_key(query), "limit": limit},
            )
            .result_set
        )
        return [EntityRow(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]

    def entity(self, user_id: str, entity_id: str) -> EntityRow | None:
        """One entity by id, or None."""
        rows = (
            self.store.graph(user_id)
            .ro_query(
                "MATCH (e:Entity {id: $id}) OPTIONAL MATCH (e)-[:MENTIONED_IN]->(d:Document) "
                "RETURN e.id, e.name, e.type, count(d)",
                {"id": entity_id},
            )
            .result_set
        )
        if not rows:
            return None
        row = rows[0]
        return EntityRow(str(row[0]), str(row[1]), str(row[2]), int(row[3]))

    def neighbors(self, user_id: str, entity_id: str, *, limit: int) -> list[TripleRow]:
        """The entity's relations in either direction (one hop), most confident first."""
        graph = self.store.graph(user_id)
        params = {"id": entity_id, "limit": limit}
        # Two anchored patterns (outgoing, incoming) use the id index; one undirected pattern
        # would lose the direction.
        rows = graph.ro_query("MATCH (a:Entity {id: $id})-[r]->(b:Entity) " + _TRIPLE, params)
        rows_in = graph.ro_query("MATCH (a:Entity)-[r]->(b:Entity {id: $id}) " + _TRIPLE, params)
        triples = [_triple(row) for row in rows.result_set + rows_in.result_set]
        triples.sort(key=lambda t: (-t.confidence, t.source.name, t.target.name))
        return triples[:limit]

    def entities_by_keys(self, user_id: str, keys: Sequence[str]) -> list[EntityRow]:
        """The entities whose normalised key is one of ``keys`` or starts with one of them
        followed by a space (``apple`` finds ``apple inc.``), most mentioned first."""
        if not keys:
            return []
        ranges = [[k, k] for k in keys]
        ranges += [[f"{k} ", f"{k} \U0010ffff"] for k in keys if len(k) > 2]
        rows = (
            self.store.graph(user_id)
            .ro_query(
                # Two string comparisons on the key, unlike STARTS WITH, use the key index.
                "UNWIND $ranges AS r MATCH (e:Entity) WHERE e.key >= r[0] AND e.key <= r[1] "
                "WITH DISTINCT e OPTIONAL MATCH (e)-[:MENTIONED_IN]->(d:Document) "
                "RETURN e.id, e.name, e.type, count(d) AS files ORDER BY files DESC, e.name",
                {"ranges": ranges},
            )
            .result_set
        )
        return [EntityRow(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]

    def relations_around(
        self, user_id: str, entity_ids: Sequence[str], *, limit: int
    ) -> list[TripleRow]:
        """The one-hop relations of any of the entities, in either direction, most confident
        first (a relation between two of them comes once)."""
        if not entity_ids:
            return []
        graph = self.store.graph(user_id)
        params = {"ids": list(entity_ids), "limit": limit}
        out = graph.ro_query(
            "UNWIND $ids AS id MATCH (a:Entity {id: id})-[r]->(b:Entity) " + _TRIPLE, params
        )
        into = graph.ro_query(
            "UNWIND $ids AS id MATCH (a:Entity)-[r]->(b:Entity {id: id}) " + _TRIPLE, params
        )
        seen: set[tuple[str, str, str, str, int]] = set()
        triples = []
        for triple in map(_triple, out.result_set + into.result_set):
            t = triple
            identity = (t.source.id, t.type, t.target.id, t.file_id, t.chunk)
            if identity not in seen:
                seen.add(identity)
                triples.append(triple)
        triples.sort(key=lambda t: (-t.confidence, t.source.name, t.target.name))
        return triples[:limit]

    def mentions(self, user_id: str, entity_ids: Sequence[str]) -> list[MentionRow]:
        """Where each of the entities is mentioned: one row per entity and file."""
        if not entity_ids:
            return []
        rows = (
            self.store.graph(user_id)
            .ro_query(
                "UNWIND $ids AS id MATCH (e:Entity {id: id})-[m:MENTIONED_IN]->(d:Document) "
                "RETURN e.id, d.file_id, m.chunks ORDER BY d.file_id",
                {"ids": list(entity_ids)},
            )
            .result_set
        )
        return [MentionRow(str(r[0]), str(r[1]), tuple(int(c) for c in r[2])) for r in rows]


def _triple(row: list[Any]) -> TripleRow:
    return TripleRow(
        source=EntityRow(str(row[0]), str(row[1]), str(row[2]), 0),
        type=str(row[3]),
        target=EntityRow(str(row[4]), str(row[5]), str(row[6]), 0),
        file_id=str(row[7]),
        chunk=int(row[8]),
        evidence=str(row[9]),
        confidence=float(row[10]),
    )
