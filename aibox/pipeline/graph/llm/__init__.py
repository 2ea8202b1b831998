"""The LLM extractor: NER (with gleaning), RE and RT as chat requests to an OpenAI-compatible model.

Each step is one request per chunk, chunks running in a thread pool of ``llm_max_concurrency``.
Entity names must occur in the chunk (exactly, else case- and script-insensitively) or they are
dropped; so are entities whose type is not configured. Answers are kept in the cache the
extractor is given (Redis, in workers: :mod:`aibox.store.llm_cache`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from aibox.errors import ConfigurationError
from aibox.pipeline.graph.llm import prompts, relation_types
from aibox.pipeline.graph.llm.answers import AnswerCache, NoCache
from aibox.pipeline.graph.llm.client import ChatClient, ChatStats
from aibox.pipeline.graph.llm.merge import merge_entities, strongest
from aibox.pipeline.graph.llm.ner import Found, locate_entities
from aibox.pipeline.graph.llm.relations import Proposal, propose
from aibox.pipeline.graph.normalise import load_converter
from aibox.pipeline.types import Chunk, Entity, GraphExtraction, Mention, Relation
from aibox.settings import Settings

__all__ = ["AnswerCache", "ChatStats", "LLMExtractor"]

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


class LLMExtractor:
    """Extracts a knowledge graph with a chat model; answers are kept in ``cache`` if given."""

    name = "llm"

    def __init__(self, settings: Settings, *, cache: AnswerCache | None = None) -> None:
        _check(settings)
        self._entity_types = tuple(
            kind.strip().upper() for kind in settings.llm_entity_types if kind.strip()
        )
        self._gleaning_passes = settings.llm_gleaning_passes
        self._concurrency = settings.llm_max_concurrency
        self._client = ChatClient(settings, cache or NoCache())

    @property
    def stats(self) -> ChatStats:
        """Requests sent, cache hits and unparseable answers so far."""
        return self._client.stats

    def load(self) -> None:
        """Load the OpenCC converter; the endpoint and Redis are reached on first use."""
        load_converter()

    def ner(self, chunks: Sequence[Chunk]) -> tuple[list[Entity], list[Mention]]:
        """Ask for each chunk's entities (then gleaning passes) and merge them on their keys."""
        found = self._each(chunks, self._chunk_entities)
        return merge_entities(item for items in found for item in items)

    def extract_relations(
        self, chunks: Sequence[Chunk], entities: Sequence[Entity], mentions: Sequence[Mention]
    ) -> list[Relation]:
        """Ask for the relations between each chunk's entities, all typed RELATED_TO."""
        return strongest([p.relation for p in self._propose(chunks, entities, mentions)])

    def type_relations(
        self, relations: Sequence[Relation], chunks: Sequence[Chunk]
    ) -> list[Relation]:
        """Type relations with the model; called alone it has no RE descriptions, only evidence."""
        del chunks
        return self._type([Proposal(relation, "") for relation in relations])

    def extract(self, chunks: Sequence[Chunk]) -> GraphExtraction:
        """Run NER, RE and RT, passing RE's descriptions on to RT."""
        entities, mentions = self.ner(chunks)
        relations = self._type(self._propose(chunks, entities, mentions))
        return GraphExtraction(entities, mentions, relations)

    def _chunk_entities(self, chunk: Chunk) -> list[Found]:
        if not chunk.text.strip():
            return []
        messages = prompts.ner_messages(chunk.text, self._entity_types)
        answer, records = self._client.records(messages, "entities")
        for _ in range(self._gleaning_passes):
            messages = prompts.gleaning_messages(messages, answer)
            answer, more = self._client.records(messages, "entities")
            if not more:
                break
            records.extend(more)
        return locate_entities(chunk, records, self._entity_types)

    def _propose(
        self, chunks: Sequence[Chunk], entities: Sequence[Entity], mentions: Sequence[Mention]
    ) -> list[Proposal]:
        types = {entity.key: entity.type for entity in entities}
        by_chunk: dict[int, list[Mention]] = {}
        for mention in mentions:
            by_chunk.setdefault(mention.chunk_index, []).append(mention)

        def chunk_relations(chunk: Chunk) -> list[Proposal]:
            inside = sorted(by_chunk.get(chunk.index, []), key=lambda m: (m.start, m.end))
            names: dict[str, str] = {}
            for mention in inside:
                names.setdefault(mention.entity_key, chunk.text[mention.start : mention.end])
            if len(names) < 2:
                return []
            listed = [(name, types.get(key, "")) for key, name in names.items()]
            _, records = self._client.records(prompts.re_messages(chunk.text, listed), "relations")
            return propose(chunk, records, inside, types)

        found = self._each(chunks, chunk_relations)
        return [proposal for proposals in found for proposal in proposals]

    def _type(self, proposals: Sequence[Proposal]) -> list[Relation]:
        batches: dict[int, list[Proposal]] = {}
        for proposal in proposals:
            batches.setdefault(proposal.relation.chunk_index, []).append(proposal)

        def type_batch(batch: list[Proposal]) -> list[Relation]:
            messages = prompts.rt_messages(relation_types.items(batch))
            _, records = self._client.records(messages, "relations")
            return relation_types.apply_types(batch, records)

        typed = self._each([batches[index] for index in sorted(batches)], type_batch)
        return strongest([relation for relations in typed for relation in relations])

    def _each(self, items: Sequence[_Item], work: Callable[[_Item], _Result]) -> list[_Result]:
        """``work`` over ``items`` in order, in a pool torn down (pending work cancelled) after."""
        if len(items) <= 1:
            return [work(item) for item in items]
        pool = ThreadPoolExecutor(min(self._concurrency, len(items)), "aibox-llm")
        try:
            return list(pool.map(work, items))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _check(settings: Settings) -> None:
    if settings.llm_max_concurrency < 1:
        raise ConfigurationError("AIBOX_LLM_MAX_CONCURRENCY must be at least 1")
    if settings.llm_gleaning_passes < 0:
        raise ConfigurationError("AIBOX_LLM_GLEANING_PASSES must be 0 or more")
    if settings.llm_timeout_s <= 0:
        raise ConfigurationError("AIBOX_LLM_TIMEOUT_S must be positive")
    if not [kind for kind in settings.llm_entity_types if kind.strip()]:
        raise ConfigurationError("AIBOX_LLM_ENTITY_TYPES must name at least one entity type")
