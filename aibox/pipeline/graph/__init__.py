"""Knowledge-graph extraction (NER → RE → RT) behind one interface, chosen by name."""

from aibox.pipeline.graph.base import (
    RELATED_TO,
    RELATION_TYPES,
    Extractor,
    get_extractor,
    run_stages,
)
from aibox.pipeline.graph.normalise import normalise_key

__all__ = [
    "RELATED_TO",
    "RELATION_TYPES",
    "Extractor",
    "get_extractor",
    "normalise_key",
    "run_stages",
]
