"""Knowledge graphs in FalkorDB: one graph per user.

Model: ``(:Entity {key, name, type})`` merged on the normalised key across files;
``(:Document {file_id})`` per file; ``(e)-[:MENTIONED_IN {run, count, chunks}]->(d)`` for each
entity a file mentions; typed relation edges ``(a)-[:FOUNDED {file_id, chunk, evidence,
confidence, weight, run}]->(b)`` carrying their provenance.

Writing a file's extraction is replace-then-remove: every edge written is stamped with the
run id, then the file's edges from other runs are deleted, then entities no file mentions any
more. Running the same extraction twice, or after a crash half-way, converges to one copy.
Entities mentioned by other files stay.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from falkordb import FalkorDB, Graph
from redis.exceptions import ResponseError

from aibox import keys
from aibox.pipeline.types import GraphExtraction

_TYPE_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
_BATCH = 500
_INDEXES = (
    "CREATE INDEX FOR (e:Entity) ON (e.key)",
    "CREATE INDEX FOR (e:Entity) ON (e.id)",
    "CREATE INDEX FOR (d:Document) ON (d.file_id)",
)


@dataclass(frozen=True, slots=True)
class GraphCounts:
    """Sizes of a user's graph."""

    entities: int
    relations: int


class GraphStore:
    """Writes and removes files' contributions to users' graphs."""

    def __init__(self, db: FalkorDB) -> None:
        self.db = db
        self._indexed: set[str] = set()

    def graph(self, user_id: str) -> Graph:
        """The user's graph, with its indexes created on first use in this process."""
        name = keys.graph(user_id)
        graph = self.db.select_graph(name)
        if name not in self._indexed:
            for statement in _INDEXES:
                try:
                    graph.query(statement)
                except ResponseError as exc:
                    if "already indexed" not in str(exc):
                        raise
            self._indexed.add(name)
        return graph

    def replace_file(
        self, user_id: str, file_id: str, extraction: GraphExtraction, run_id: str
    ) -> GraphCounts:
        """Make ``extraction`` the file's whole contribution to the user's graph."""
        graph = self.graph(user_id)
        graph.query("MERGE (d:Document {file_id: $file_id})", {"file_id": file_id})
        mentioned = {m.entity_key for m in extraction.mentions}
        entities = [e for e in extraction.entities if e.key in mentioned]
        chunks_of: dict[str, set[int]] = defaultdict(set)
        counts: dict[str, int] = defaultdict(int)
        for m in extraction.mentions:
            chunks_of[m.entity_key].add(m.chunk_index)
            counts[m.entity_key] += 1
        rows = [
            {
                "key": e.key,
                "id": entity_id(e.key),
                "name": e.name,
                "type": e.type,
                "count": counts[e.key],
                "chunks": sorted(chunks_of[e.key]),
            }
            for e in entities
        ]
        for batch in _batches(rows):
            graph.query(
                "UNWIND $rows AS row "
                "MERGE (e:Entity {key: row.key}) "
                "ON CREATE SET e.id = row.id, e.name = row.name, e.type = row.type "
                "WITH e, row MATCH (d:Document {file_id: $file_id}) "
                "MERGE (e)-[m:MENTIONED_IN]->(d) "
                "SET m.run = $run, m.count = row.count, m.chunks = row.chunks",
                {"rows": batch, "file_id": file_id, "run": run_id},
            )
        relations_by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in extraction.relations:
            if r.source_key in mentioned and r.target_key in mentioned:
                relations_by_type[_checked_type(r.type)].append(
                    {
                        "source": r.source_key,
                        "target": r.target_key,
                        "chunk": r.chunk_index,
                        "evidence": r.evidence,
                        "confidence": float(r.confidence),
                        "weight": float(r.weight),
                    }
                )
        for rel_type, rel_rows in sorted(relations_by_type.items()):
            for batch in _batches(rel_rows):
                # The type is interpolated (Cypher has no parameter for it); _checked_type
                # admitted only [A-Z0-9_].
                graph.query(
                    "UNWIND $rows AS row "
                    "MATCH (a:Entity {key: row.source}), (b:Entity {key: row.target}) "
                    f"MERGE (a)-[x:{rel_type} {{file_id: $file_id, chunk: row.chunk}}]->(b) "
                    "SET x.run = $run, x.evidence = row.evidence, "
                    "x.confidence = row.confidence, x.weight = row.weight",
                    {"rows": batch, "file_id": file_id, "run": run_id},
                )
        self._remove_stale(graph, file_id, run_id)
        return GraphCounts(
            entities=len(entities), relations=sum(len(v) for v in relations_by_type.values())
        )

    def remove_file(self, user_id: str, file_id: str) -> None:
        """Remove everything the file contributed; entities other files mention stay."""
        graph = self.graph(user_id)
        self._remove_stale(graph, file_id, run_id=None)
        graph.query("MATCH (d:Document {file_id: $file_id}) DELETE d", {"file_id": file_id})

    def counts(self, user_id: str) -> GraphCounts:
        """How many entities and relations (not counting mentions) the user's graph holds."""
        graph = self.graph(user_id)
        entities = graph.ro_query("MATCH (e:Entity) RETURN count(e)").result_set[0][0]
        relations = graph.ro_query("MATCH (:Entity)-[r]->(:Entity) RETURN count(r)").result_set[0][
            0
        ]
        return GraphCounts(entities=int(entities), relations=int(relations))

    def _remove_stale(self, graph: Graph, file_id: str, run_id: str | None) -> None:
        params = {"file_id": file_id, "run": run_id or ""}
        graph.query(
            "MATCH (d:Document {file_id: $file_id})<-[:MENTIONED_IN]-(:Entity)-[x]->(:Entity) "
            "WHERE x.file_id = $file_id AND x.run <> $run DELETE x",
            params,
        )
        stale = graph.query(
            "MATCH (e:Entity)-[m:MENTIONED_IN]->(:Document {file_id: $file_id}) "
            "WHERE m.run <> $run DELETE m RETURN e.key",
            params,
        ).result_set
        keys_ = [row[0] for row in stale]
        for batch in _batches(keys_):
            graph.query(
                "UNWIND $keys AS k MATCH (e:Entity {key: k}) "
                "WHERE NOT (e)-[:MENTIONED_IN]->() DETACH DELETE e",
                {"keys": batch},
            )


def entity_id(key: str) -> str:
    """A short, URL-safe, stable id for an entity key (keys may hold any text)."""
    return hashlib.blake2b(key.encode("utf-8"), digest_size=8).hexdigest()


def _checked_type(name: str) -> str:
    if not _TYPE_NAME.match(name) or name == "MENTIONED_IN":
        raise ValueError(f"invalid relation type {name!r}")
    return name


def _batches(rows: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(rows), _BATCH):
        yield rows[start : start + _BATCH]
