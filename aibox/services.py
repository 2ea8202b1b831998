"""Process-wide service objects, built on first use from the settings (never at import)."""

from __future__ import annotations

from functools import lru_cache

from aibox.auth.users import UserStore
from aibox.connections import get_binary_redis, get_graph_db, get_redis
from aibox.settings import get_settings
from aibox.store.chunks import ChunkStore
from aibox.store.content import content_store_for
from aibox.store.files import FileStore
from aibox.store.fulltext import FullTextIndex
from aibox.store.graph import GraphStore
from aibox.store.graph_queries import GraphQueries
from aibox.store.registry import JobRegistry
from aibox.store.status import StatusStore
from aibox.store.vectors import VectorIndex


@lru_cache(maxsize=1)
def file_store() -> FileStore:
    """The file store on the configured content store (directory or bucket) and Redis."""
    return FileStore(get_redis(), content_store_for(get_settings()))


@lru_cache(maxsize=1)
def status_store() -> StatusStore:
    """The processing status store."""
    return StatusStore(get_redis(), get_settings().status_ttl_s)


@lru_cache(maxsize=1)
def job_registry() -> JobRegistry:
    """The job registry."""
    return JobRegistry(get_redis(), get_settings().job_retention_s)


@lru_cache(maxsize=1)
def chunk_store() -> ChunkStore:
    """Chunk texts and offsets."""
    return ChunkStore(get_redis())


@lru_cache(maxsize=1)
def vector_index() -> VectorIndex:
    """The users' vector sets."""
    return VectorIndex(get_redis())


@lru_cache(maxsize=1)
def fulltext_index() -> FullTextIndex:
    """The users' full-text (BM25) indexes."""
    return FullTextIndex(get_binary_redis())


@lru_cache(maxsize=1)
def graph_store() -> GraphStore:
    """The users' knowledge graphs (writes)."""
    return GraphStore(get_graph_db())


@lru_cache(maxsize=1)
def graph_queries() -> GraphQueries:
    """The users' knowledge graphs (reads)."""
    return GraphQueries(graph_store())


@lru_cache(maxsize=1)
def user_store() -> UserStore:
    """User accounts."""
    return UserStore(get_redis())
