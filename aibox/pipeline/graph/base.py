"""The knowledge-graph extractor interface (NER → RE → RT) and the registry of extractors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from aibox.errors import ConfigurationError
from aibox.pipeline.types import Chunk, Entity, GraphExtraction, Mention, Relation
from aibox.settings import Settings

if TYPE_CHECKING:  # the llm package imports this module: no import at run time
    from aibox.pipeline.graph.llm.answers import AnswerCache

RELATED_TO = "RELATED_TO"

# The closed list of relation types every extractor types onto; RELATED_TO when none fits.
RELATION_TYPES: tuple[str, ...] = (
    "BORN_IN",
    "FOUNDED",
    "LOCATED_IN",
    "ACQUIRED",
    "LEADS",
    "PARTNER_OF",
    "WORKS_FOR",
    RELATED_TO,
)


class Extractor(Protocol):
    """Finds entities and typed relations in one file's chunks."""

    name: str

    def load(self) -> None:
        """Load heavy resources once per process (idempotent; ``extract`` also loads lazily)."""
        ...

    def ner(self, chunks: Sequence[Chunk]) -> tuple[list[Entity], list[Mention]]:
        """Find named entities and where each is mentioned."""
        ...

    def extract_relations(
        self, chunks: Sequence[Chunk], entities: Sequence[Entity], mentions: Sequence[Mention]
    ) -> list[Relation]:
        """Propose candidate relations between entities, all typed RELATED_TO."""
        ...

    def type_relations(
        self, relations: Sequence[Relation], chunks: Sequence[Chunk]
    ) -> list[Relation]:
        """Give candidate relations a type from RELATION_TYPES and a direction."""
        ...

    def extract(self, chunks: Sequence[Chunk]) -> GraphExtraction:
        """Run NER, RE and RT over a file's chunks."""
        ...


def run_stages(extractor: Extractor, chunks: Sequence[Chunk]) -> GraphExtraction:
    """Run an extractor's three stages in order; the usual body of ``Extractor.extract``."""
    entities, mentions = extractor.ner(chunks)
    candidates = extractor.extract_relations(chunks, entities, mentions)
    return GraphExtraction(entities, mentions, extractor.type_relations(candidates, chunks))


def _heuristic(settings: Settings, answers: AnswerCache | None) -> Extractor:
    from aibox.pipeline.graph.heuristic import HeuristicExtractor

    del settings, answers
    return HeuristicExtractor()


def _llm(settings: Settings, answers: AnswerCache | None) -> Extractor:
    from aibox.pipeline.graph.llm import LLMExtractor

    return LLMExtractor(settings, cache=answers)


_EXTRACTORS: dict[str, Callable[[Settings, AnswerCache | None], Extractor]] = {
    "heuristic": _heuristic,
    "llm": _llm,
}


def get_extractor(settings: Settings, *, answers: AnswerCache | None = None) -> Extractor:
    """Return a new ``settings.kg_extractor``; raise ConfigurationError naming the known ones.

    ``answers`` keeps an LLM extractor's chat answers (none are kept without it).
    """
    name = settings.kg_extractor
    factory = _EXTRACTORS.get(name)
    if factory is None:
        known = ", ".join(sorted(_EXTRACTORS))
        raise ConfigurationError(
            f"unknown graph extractor {name!r} (AIBOX_KG_EXTRACTOR); known extractors: {known}"
        )
    return factory(settings, answers)
