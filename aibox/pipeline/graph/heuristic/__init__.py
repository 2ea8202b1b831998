"""The offline heuristic extractor: rule-based NER, co-occurrence RE, trigger-lexicon RT."""

from __future__ import annotations

from collections.abc import Sequence

from aibox.pipeline.graph.base import run_stages
from aibox.pipeline.graph.heuristic import tagger, triggers
from aibox.pipeline.graph.heuristic.entities import resolve
from aibox.pipeline.graph.heuristic.ner import find_candidates
from aibox.pipeline.graph.heuristic.relations import extract_relations
from aibox.pipeline.types import Chunk, Entity, GraphExtraction, Mention, Relation

__all__ = ["HeuristicExtractor"]


class HeuristicExtractor:
    """Extracts a knowledge graph from English and Chinese text without any model."""

    name = "heuristic"

    def load(self) -> None:
        """Load jieba's dictionary and the OpenCC converter (once per process)."""
        tagger.load()

    def ner(self, chunks: Sequence[Chunk]) -> tuple[list[Entity], list[Mention]]:
        """Find entities in the chunks, merged on their normalised keys."""
        return resolve(find_candidates(chunks))

    def extract_relations(
        self, chunks: Sequence[Chunk], entities: Sequence[Entity], mentions: Sequence[Mention]
    ) -> list[Relation]:
        """Pair entities that share a sentence, weighted by PMI over the file."""
        return extract_relations(chunks, entities, mentions)

    def type_relations(
        self, relations: Sequence[Relation], chunks: Sequence[Chunk]
    ) -> list[Relation]:
        """Type and direct relations with the trigger lexicon (chunks are not needed here)."""
        del chunks
        return triggers.type_relations(relations)

    def extract(self, chunks: Sequence[Chunk]) -> GraphExtraction:
        """Run NER, RE and RT over one file's chunks."""
        return run_stages(self, chunks)
