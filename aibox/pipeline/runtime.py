"""The pipeline's heavy parts (embedder, graph extractor), built once per process.

Celery's ``worker_process_init`` calls :func:`warm_up` so that models and dictionaries load
when a pool process starts, not inside the first task and never at import time.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from aibox.pipeline import terms
from aibox.pipeline.embedders import Embedder, get_embedder
from aibox.pipeline.graph import Extractor, get_extractor
from aibox.pipeline.steps import Pipeline
from aibox.services import chunk_store, file_store, fulltext_index, graph_store, vector_index
from aibox.settings import get_settings

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def embedder() -> Embedder:
    """The configured embedder, loaded."""
    instance = get_embedder(get_settings())
    instance.load()
    return instance


@lru_cache(maxsize=1)
def extractor() -> Extractor:
    """The configured knowledge-graph extractor, loaded."""
    instance = get_extractor(get_settings())
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
