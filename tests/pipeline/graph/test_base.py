"""The extractor registry, the closed relation list and load()."""

from __future__ import annotations

import subprocess
import sys

import pytest

from aibox.errors import ConfigurationError
from aibox.pipeline.graph import RELATION_TYPES, Extractor, get_extractor
from aibox.pipeline.types import GraphExtraction
from aibox.settings import Settings


def test_heuristic_is_known() -> None:
    extractor: Extractor = get_extractor(Settings(kg_extractor="heuristic"))
    assert extractor.name == "heuristic"


def test_unknown_extractor_names_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match="heuristic") as caught:
        get_extractor(Settings(kg_extractor="spacy"))
    assert "spacy" in str(caught.value)


def test_relation_types_are_the_closed_list() -> None:
    assert set(RELATION_TYPES) == {
        "BORN_IN",
        "FOUNDED",
        "LOCATED_IN",
        "ACQUIRED",
        "LEADS",
        "PARTNER_OF",
        "WORKS_FOR",
        "RELATED_TO",
    }


def test_load_is_idempotent_and_extract_works_after_it() -> None:
    extractor = get_extractor(Settings(kg_extractor="heuristic"))
    extractor.load()
    extractor.load()
    assert extractor.extract([]) == GraphExtraction([], [], [])


def test_nothing_heavy_loads_at_import_and_extract_loads_lazily() -> None:
    script = (
        "import sys\n"
        "from aibox.pipeline.graph import get_extractor\n"
        "from aibox.pipeline.types import Chunk\n"
        "from aibox.settings import Settings\n"
        "extractor = get_extractor(Settings(kg_extractor='heuristic'))\n"
        "assert 'jieba' not in sys.modules, 'jieba imported at import time'\n"
        "text = '馬雲在杭州創立了阿里巴巴集團。'\n"
        "result = extractor.extract([Chunk(0, text, 0, len(text))])\n"
        "print(sorted(e.key for e in result.entities))\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.strip() == "['杭州', '阿里巴巴集团', '马云']"
    assert "Building prefix dict" not in done.stderr  # jieba's loading chatter is silenced


def test_trigger_lexicon_types_are_on_the_closed_list() -> None:
    from aibox.pipeline.graph.heuristic.trigger_lexicon import RULES

    assert {rule.type for rule in RULES} == set(RELATION_TYPES) - {"RELATED_TO"}
