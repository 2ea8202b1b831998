"""Processing a file: load its record, run the pipeline over it, write the results to the stores.

The jobs are plain functions — parse → chunk → embed → index → graph — over a
:class:`Pipeline` (its stores and models) and a :class:`Reporter` that publishes progress;
none knows about Celery, and the tasks in :mod:`aibox.tasks` call them. Progress follows the
old system's scale: chunking to 50, vectorization to 90, storage at 90, knowledge graph to
100. Every write converges when a step runs again, so re-running a job replaces its effects.

The heavy parts (embedder, graph extractor, search analyzer) are built once per process:
Celery's ``worker_process_init`` calls :func:`warm_up`, so models and dictionaries load when a
pool process starts, never in the first task and never at import time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from aibox.connections import get_redis
from aibox.errors import DocumentTooLargeError
from aibox.pipeline import terms
from aibox.pipeline.chunking import chunk_document
from aibox.pipeline.embedders import Embedder, get_embedder
from aibox.pipeline.graph import Extractor, get_extractor
from aibox.pipeline.parsers import parse_file
from aibox.pipeline.terms import file_terms
from aibox.pipeline.types import Chunk
from aibox.services import chunk_store, file_store, fulltext_index, graph_store, vector_index
from aibox.settings import get_settings
from aibox.store.chunks import ChunkStore
from aibox.store.files import FileRecord, FileStore
from aibox.store.fulltext import FullTextIndex
from aibox.store.graph import GraphStore
from aibox.store.llm_cache import ResponseCache
from aibox.store.vectors import VectorIndex

logger = logging.getLogger(__name__)

#: Chunks per embedder call; their vectors are stored before the next batch is embedded.
EMBED_BATCH = 256


class Reporter(Protocol):
    """Receives progress: the stage, overall progress 0–100, a message and the stage's fields
    (its own ``status``, ``progress``, counts)."""

    def __call__(self, stage: str, overall: int, message: str, /, **fields: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class Pipeline:
    """Everything the steps need, built once per process."""

    files: FileStore
    chunks: ChunkStore
    fulltext: FullTextIndex
    vectors: VectorIndex
    graphs: GraphStore
    embedder: Embedder
    extractor: Extractor
    chunk_size_chars: int
    chunk_overlap_chars: int
    max_document_chars: int = 10_000_000


def process_file(p: Pipeline, record: FileRecord, report: Reporter, run_id: str) -> dict[str, Any]:
    """The full job: chunk the file, index its vectors and extract its graph."""
    chunks = rechunk(p, record, report)
    index_vectors(p, record, chunks, report)
    summary = extract_graph(p, record, report, run_id, chunks=chunks)
    return {**summary, "vector_count": len(chunks), "embedder": p.embedder.id}


def vectorize_file(
    p: Pipeline, record: FileRecord, report: Reporter, *, force_rechunk: bool = False
) -> dict[str, Any]:
    """(Re)embed the file's stored chunks, re-chunking first when asked or when none exist."""
    chunks = [] if force_rechunk else p.chunks.load(record.file_id)
    if chunks:
        index_text(p, record, chunks)  # rebuilds an index made before the full-text one existed
    else:
        chunks = rechunk(p, record, report)
    index_vectors(p, record, chunks, report)
    return {
        "file_id": record.file_id,
        "chunk_count": len(chunks),
        "vector_count": len(chunks),
        "embedder": p.embedder.id,
    }


def extract_graph(
    p: Pipeline,
    record: FileRecord,
    report: Reporter,
    run_id: str,
    *,
    chunks: list[Chunk] | None = None,
    force_rechunk: bool = False,
) -> dict[str, Any]:
    """(Re)extract the file's knowledge graph from its chunks and replace its contribution.

    With ``force_rechunk`` the file is parsed and chunked again first (the old system's
    contract), and its vectors follow the new chunks, so search never pairs a vector with
    another chunk's text."""
    if force_rechunk:
        chunks = rechunk(p, record, report)
        index_vectors(p, record, chunks, report)
    elif chunks is None:
        chunks = p.chunks.load(record.file_id) or rechunk(p, record, report)
    report(
        "kg_extraction",
        90,
        "extracting entities and relations",
        status="processing",
        progress=0,
        mode=p.extractor.name,
    )
    extraction = p.extractor.extract(chunks)
    report(
        "kg_extraction",
        95,
        "writing the knowledge graph",
        status="processing",
        progress=50,
        triples_count=len(extraction.relations),
    )
    counts = p.graphs.replace_file(record.user_id, record.file_id, extraction, run_id)
    report(
        "kg_extraction",
        100,
        "knowledge graph built",
        status="completed",
        progress=100,
        entities_count=counts.entities,
        relations_count=counts.relations,
        triples_count=len(extraction.relations),
    )
    return {
        "file_id": record.file_id,
        "chunk_count": len(chunks),
        "entities_count": counts.entities,
        "relations_count": counts.relations,
    }


def rechunk(p: Pipeline, record: FileRecord, report: Reporter) -> list[Chunk]:
    """Parse the file's bytes and replace its stored chunks and their full-text postings."""
    report("chunking", 10, "parsing file", status="processing", progress=0)
    with p.files.local_file(record) as path:
        document = parse_file(path, record.file_type)
    if len(document.text) > p.max_document_chars:
        raise DocumentTooLargeError(
            f"document has {len(document.text):,} characters of text; the limit is "
            f"{p.max_document_chars:,} (AIBOX_MAX_DOCUMENT_CHARS)"
        )
    report("chunking", 25, "file parsed, chunking", status="processing", progress=50)
    chunks = chunk_document(
        document, size_chars=p.chunk_size_chars, overlap_chars=p.chunk_overlap_chars
    )
    p.chunks.replace(record.file_id, chunks)
    index_text(p, record, chunks)
    p.files.update(record.file_id, chunk_count=len(chunks))
    report(
        "chunking", 50, "chunking done", status="completed", progress=100, chunk_count=len(chunks)
    )
    return chunks


def index_text(p: Pipeline, record: FileRecord, chunks: list[Chunk]) -> None:
    """Make ``chunks`` the file's entries in the user's full-text index."""
    p.fulltext.replace(record.user_id, record.file_id, file_terms(chunks))


def index_vectors(p: Pipeline, record: FileRecord, chunks: list[Chunk], report: Reporter) -> None:
    """Embed ``chunks`` and make them the file's vectors, removing any left from before."""
    embedder_id = p.embedder.id
    current = p.files.get(record.file_id) or record
    if current.embedder and current.embedder != embedder_id:
        # Vectors from another embedder live in another set: drop them there first.
        p.vectors.remove(
            record.user_id, current.embedder, record.file_id, range(current.vector_high_water)
        )
        p.files.update(record.file_id, vector_high_water=0)
        current = current.model_copy(update={"vector_high_water": 0})
    high_water = max(current.vector_high_water, len(chunks))
    # Write-ahead: record every id that may exist before adding, so a crash leaves none behind.
    p.files.update(record.file_id, embedder=embedder_id, vector_high_water=high_water)
    p.vectors.record_embedder(record.user_id, record.file_id, embedder_id)
    report("vectorization", 50, "embedding chunks", status="processing", progress=0)
    report("storage", 50, "indexing vectors", status="processing", progress=0)
    for start in range(0, len(chunks), EMBED_BATCH):
        batch = chunks[start : start + EMBED_BATCH]
        vectors = p.embedder.embed([c.text for c in batch])
        p.vectors.add(record.user_id, embedder_id, record.file_id, start, vectors)
        done = start + len(batch)
        report(
            "vectorization",
            50 + 40 * done // len(chunks),
            f"embedded {done}/{len(chunks)}",
            status="processing",
            progress=100 * done // len(chunks),
        )
    p.vectors.remove(record.user_id, embedder_id, record.file_id, range(len(chunks), high_water))
    p.files.update(record.file_id, vector_high_water=len(chunks))
    report(
        "vectorization",
        90,
        "vectorization done",
        status="completed",
        progress=100,
        vector_count=len(chunks),
    )
    report(
        "storage",
        90,
        "vectors stored",
        status="completed",
        progress=100,
        vector_count=len(chunks),
        collection_name=f"{record.user_id}:{embedder_id}",
    )


@lru_cache(maxsize=1)
def embedder() -> Embedder:
    """The configured embedder, loaded."""
    instance = get_embedder(get_settings())
    instance.load()
    return instance


@lru_cache(maxsize=1)
def extractor() -> Extractor:
    """The configured knowledge-graph extractor, loaded."""
    settings = get_settings()
    instance = get_extractor(settings, answers=ResponseCache(get_redis, settings.llm_cache_ttl_s))
    instance.load()
    return instance


@lru_cache(maxsize=1)
def pipeline() -> Pipeline:
    """The process's pipeline: stores on the data server plus the loaded models."""
    settings = get_settings()
    return Pipeline(
        files=file_store(),
        chunks=chunk_store(),
        fulltext=fulltext_index(),
        vectors=vector_index(),
        graphs=graph_store(),
        embedder=embedder(),
        extractor=extractor(),
        chunk_size_chars=settings.chunk_size_chars,
        chunk_overlap_chars=settings.chunk_overlap_chars,
        max_document_chars=settings.max_document_chars,
    )


def warm_up() -> None:
    """Load the embedder, extractor and search analyzer now (once per worker process)."""
    terms.load()
    logger.info("loading embedder %s and extractor %s", embedder().id, extractor().name)
