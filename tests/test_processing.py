"""Processing jobs against the real Redis + FalkorDB server (no broker, no Celery)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis

from aibox import keys, processing
from aibox.connections import get_binary_redis, get_graph_db
from aibox.errors import UnreadableFileError
from aibox.processing import Pipeline, extract_graph, process_file, vectorize_file
from aibox.store.chunks import ChunkStore
from aibox.store.files import FileRecord, FileStore
from aibox.store.fulltext import FullTextIndex
from aibox.store.graph import GraphStore
from aibox.store.vectors import VectorIndex

DATA = Path(__file__).resolve().parent / "data"


class Collector:
    """A reporter that remembers what it was told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, str, dict[str, Any]]] = []

    def __call__(self, stage: str, overall: int, message: str, /, **fields: Any) -> None:
        self.calls.append((stage, overall, message, fields))


@pytest.fixture
def pipeline(redis_client: redis.Redis, tmp_path: Path) -> Pipeline:
    return make_pipeline(redis_client, tmp_path, chunk_size=300, overlap=60)


def make_pipeline(client: redis.Redis, storage: Path, *, chunk_size: int, overlap: int) -> Pipeline:
    return Pipeline(
        files=FileStore(client, storage),
        chunks=ChunkStore(client),
        fulltext=FullTextIndex(get_binary_redis()),
        vectors=VectorIndex(client),
        graphs=GraphStore(get_graph_db()),
        embedder=processing.embedder(),
        extractor=processing.extractor(),
        chunk_size_chars=chunk_size,
        chunk_overlap_chars=overlap,
    )


def store_file(p: Pipeline, source: Path, file_type: str, user: str = "u1") -> FileRecord:
    with open(source, "rb") as f:
        return p.files.save_upload(
            iter(lambda: f.read(4096), b""),
            user_id=user,
            filename=source.name,
            file_type=file_type,
            content_type=None,
            max_bytes=10**7,
        )


def vector_elements(client: redis.Redis, user: str, embedder_id: str) -> set[str]:
    key = keys.vector_set(user, embedder_id)
    if not client.exists(key):
        return set()
    # VRANDMEMBER with a count above the cardinality returns every element once.
    return set(client.vset().vrandmember(key, 100000))


def test_full_job_indexes_one_vector_per_chunk_and_builds_a_graph(
    pipeline: Pipeline, redis_client: redis.Redis
) -> None:
    record = store_file(pipeline, DATA / "english.md", "md")
    report = Collector()
    summary = process_file(pipeline, record, report, run_id="run-1")
    chunks = pipeline.chunks.load(record.file_id)
    assert len(chunks) > 1
    assert summary["chunk_count"] == summary["vector_count"] == len(chunks)
    expected = {f"{record.file_id}:{c.index}" for c in chunks}
    assert vector_elements(redis_client, "u1", pipeline.embedder.id) == expected
    attrs = redis_client.vset().vgetattr(
        keys.vector_set("u1", pipeline.embedder.id), f"{record.file_id}:0"
    )
    assert attrs == {"file_id": record.file_id, "chunk": 0}
    counts = pipeline.graphs.counts("u1")
    assert counts.entities >= 5
    assert counts.relations >= 3
    assert summary["entities_count"] == counts.entities
    # Progress only moves forward and ends at 100 in the knowledge-graph stage.
    progress = [p for _, p, _, _ in report.calls]
    assert progress == sorted(progress)
    assert report.calls[-1][:2] == ("kg_extraction", 100)
    stages = {stage for stage, *_ in report.calls}
    assert stages == {"chunking", "vectorization", "storage", "kg_extraction"}


def test_rerunning_jobs_replaces_rather_than_duplicates(
    pipeline: Pipeline, redis_client: redis.Redis
) -> None:
    record = store_file(pipeline, DATA / "traditional.txt", "txt")
    process_file(pipeline, record, Collector(), run_id="run-1")
    vectors = vector_elements(redis_client, "u1", pipeline.embedder.id)
    graph = pipeline.graphs.counts("u1")
    process_file(pipeline, record, Collector(), run_id="run-2")
    vectorize_file(pipeline, record, Collector())
    vectorize_file(pipeline, record, Collector(), force_rechunk=True)
    extract_graph(pipeline, record, Collector(), run_id="run-3")
    extract_graph(pipeline, record, Collector(), run_id="run-4")
    assert vector_elements(redis_client, "u1", pipeline.embedder.id) == vectors
    assert pipeline.graphs.counts("u1") == graph
    assert graph.entities >= 5


def test_fewer_chunks_after_rechunking_removes_the_extra_vectors(
    pipeline: Pipeline, redis_client: redis.Redis, tmp_path: Path
) -> None:
    record = store_file(pipeline, DATA / "english.md", "md")
    process_file(pipeline, record, Collector(), run_id="run-1")
    before = vector_elements(redis_client, "u1", pipeline.embedder.id)
    coarse = make_pipeline(redis_client, tmp_path, chunk_size=2000, overlap=0)
    vectorize_file(coarse, record, Collector(), force_rechunk=True)
    after = vector_elements(redis_client, "u1", pipeline.embedder.id)
    assert len(after) == coarse.chunks.count(record.file_id) < len(before)
    assert after == {f"{record.file_id}:{i}" for i in range(len(after))}
    stored = coarse.files.get(record.file_id)
    assert stored is not None
    assert stored.vector_high_water == len(after)


def test_two_files_share_entities_and_each_keeps_its_own_contribution(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    first = store_file(pipeline, DATA / "english.md", "md")
    copy = tmp_path / "copy.md"
    shutil.copy(DATA / "english.md", copy)
    second = store_file(pipeline, copy, "md")
    process_file(pipeline, first, Collector(), run_id=str(uuid.uuid4()))
    alone = pipeline.graphs.counts("u1")
    process_file(pipeline, second, Collector(), run_id=str(uuid.uuid4()))
    both = pipeline.graphs.counts("u1")
    assert both.entities == alone.entities  # same names merge on their key
    assert both.relations == 2 * alone.relations  # provenance kept per file
    pipeline.graphs.remove_file("u1", second.file_id)
    assert pipeline.graphs.counts("u1") == alone


def test_binary_content_fails_with_a_clear_message(pipeline: Pipeline, tmp_path: Path) -> None:
    binary = tmp_path / "random.txt"
    binary.write_bytes(bytes(range(256)) * 64)
    record = store_file(pipeline, binary, "txt")
    with pytest.raises(UnreadableFileError, match="binary"):
        process_file(pipeline, record, Collector(), run_id="run-1")


def test_text_over_the_document_limit_fails_before_any_work(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    from dataclasses import replace

    from aibox.errors import DocumentTooLargeError

    p = replace(
        make_pipeline(redis_client, tmp_path, chunk_size=300, overlap=60), max_document_chars=1000
    )
    long_line = tmp_path / "line.txt"
    long_line.write_text("x" * 5000)
    record = store_file(p, long_line, "txt")
    with pytest.raises(DocumentTooLargeError, match="5,000 characters of text; the limit is 1,000"):
        process_file(p, record, Collector(), run_id="run-1")
    assert p.chunks.count(record.file_id) == 0
