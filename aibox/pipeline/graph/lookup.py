"""The entity keys a query may name, for looking its entities up in a graph.

Two sources, both giving keys as extraction makes them (:func:`normalise_key`):

- the configured extractor's own NER run over the query, so a query names an entity exactly
  as a document would;
- every short word n-gram of the query (and every 2–8 character stretch of its Chinese),
  because a query is rarely written like a document: "who founded apple" has no capital
  letter for English NER to see, yet ``apple`` is a key the graph may hold. Looking a few
  hundred candidate keys up on the key index costs about as much as one query.
"""

from __future__ import annotations

import logging
import re

from aibox.pipeline.graph.base import Extractor
from aibox.pipeline.graph.normalise import normalise_key
from aibox.pipeline.types import Chunk

logger = logging.getLogger(__name__)

MAX_WORDS = 5
MAX_HAN = 8
MAX_KEYS = 400
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")
_EDGE_PUNCTUATION = "\"'“”‘’()[]{}<>«»,;:!?。，、；：！？（）《》「」『』"


def query_keys(query: str, extractor: Extractor | None = None) -> list[str]:
    """Candidate entity keys of ``query``: NER's first, then n-grams; no repeats."""
    keys: dict[str, None] = {}
    if extractor is not None:
        try:
            entities, _ = extractor.ner([Chunk(0, query, 0, len(query))])
        except Exception:  # a failing NER (an LLM down) must not fail the search
            logger.warning("NER on a search query failed; using n-grams only", exc_info=True)
        else:
            keys.update(dict.fromkeys(e.key for e in entities))
    normalised = normalise_key(query)
    words = normalised.split(" ")
    for size in range(1, MAX_WORDS + 1):
        for first in range(len(words) - size + 1):
            gram = " ".join(words[first : first + size])
            stripped = gram.strip(_EDGE_PUNCTUATION)
            for candidate in (gram, stripped, stripped.rstrip(".")):
                if len(candidate) > 1:
                    keys[candidate] = None
    for run in _HAN_RUN.findall(normalised):
        for size in range(2, min(MAX_HAN, len(run)) + 1):
            for first in range(len(run) - size + 1):
                keys[run[first : first + size]] = None
    return list(keys)[:MAX_KEYS]
