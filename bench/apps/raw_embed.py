"""The ingestion limit: the configured embedder on the corpus's chunks, no queue, no storage.

``python -m bench.apps.raw_embed FILE...``. Parses and chunks the files with aibox's own parser
and chunker (untimed), loads the embedder (untimed), then times ``embed`` over all chunks in
the pipeline's batch size. Prints ``{"seconds", "chunks", "chunks_per_s", "peak_rss_mb"}``.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from aibox import processing
from aibox.pipeline.chunking import chunk_document
from aibox.pipeline.parsers import parse_file
from aibox.settings import get_settings
from bench.corpus import file_type

_BATCH = 256  # aibox.processing embeds in batches of this many chunks


def main() -> None:
    settings = get_settings()
    texts: list[str] = []
    for name in sys.argv[1:]:
        document = parse_file(Path(name), file_type(Path(name)))
        chunks = chunk_document(
            document,
            size_chars=settings.chunk_size_chars,
            overlap_chars=settings.chunk_overlap_chars,
        )
        texts += [c.text for c in chunks]
    embedder = processing.embedder()
    embedder.embed(texts[:8])  # first call allocations, as a warm worker has had them
    start = time.perf_counter()
    for i in range(0, len(texts), _BATCH):
        embedder.embed(texts[i : i + _BATCH])
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "chunks": len(texts),
                "chunks_per_s": len(texts) / seconds,
                "peak_rss_mb": peak,
            }
        )
    )


if __name__ == "__main__":
    main()
