"""Precision and recall of the heuristic graph extractor on the labelled passages of kg_eval.

Each passage of ``tests/data/kg_eval/{en,zh_tw}.jsonl`` is extracted on its own, as a one-chunk
file (with ``--one-file``, each language's passages are the chunks of one file). Predictions
match gold labels on ``normalise_key``: entities on key and type, and on key alone; typed
relations on (subject, type, object), PARTNER_OF unordered; entity pairs ignoring type and
direction, over the typed relations and over every candidate (RELATED_TO included). A gold
entity's aliases match it too; a second prediction of one gold entity is a false positive.
Every fourth passage (the 4th, 8th, …) is held out: rules are tuned on the others only.

``python -m bench.kg_eval`` prints the scores and writes ``bench/results/kg_eval.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aibox.pipeline.graph import RELATED_TO, RELATION_TYPES, normalise_key
from aibox.pipeline.graph.base import Extractor
from aibox.pipeline.graph.heuristic import HeuristicExtractor
from aibox.pipeline.types import Chunk, GraphExtraction

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "kg_eval"
OUTPUT = ROOT / "bench" / "results" / "kg_eval.json"
LANGUAGES = ("en", "zh_tw")
ENTITY_TYPES = frozenset({"PERSON", "ORGANIZATION", "LOCATION"})
GOLD_RELATION_TYPES = frozenset(RELATION_TYPES) - {RELATED_TO}
SYMMETRIC_TYPES = frozenset({"PARTNER_OF"})
HELD_OUT_EVERY = 4
SPLITS = ("all", "tuned", "held_out")
METRICS = {
    "entities": "entities (key + type)",
    "entity_keys": "entities (key only)",
    "relations": "relations (typed)",
    "typed_pairs": "pairs (typed relations)",
    "pairs": "pairs (all candidates)",
}

Triple = tuple[str, str, str]
Pair = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GoldEntity:
    """An entity a reader finds in a passage: its surface form, type and other surface forms."""

    text: str
    type: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GoldRelation:
    """A typed relation stated in a passage, between two of its gold entities (by surface)."""

    subject: str
    type: str
    object: str


@dataclass(frozen=True, slots=True)
class Passage:
    """One labelled passage; ``index`` is its 0-based line number in its language's file."""

    id: str
    language: str
    index: int
    text: str
    entities: tuple[GoldEntity, ...]
    relations: tuple[GoldRelation, ...]

    @property
    def held_out(self) -> bool:
        """True for every fourth passage, kept out of rule tuning."""
        return self.index % HELD_OUT_EVERY == HELD_OUT_EVERY - 1


@dataclass(slots=True)
class Counts:
    """True positives, false positives and false negatives of one metric."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Counts) -> None:
        """Add another count to this one."""
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def precision(self) -> float:
        """Share of predictions that are right (1.0 when nothing was predicted or expected)."""
        return _ratio(self.tp, self.tp + self.fp, self.fn == 0)

    @property
    def recall(self) -> float:
        """Share of gold items found (1.0 when nothing was expected or predicted)."""
        return _ratio(self.tp, self.tp + self.fn, self.fp == 0)

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float]:
        """Counts and rates for the JSON report."""
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


Summary = dict[str, dict[str, dict[str, Counts]]]  # group → split → metric → counts


@dataclass(slots=True)
class PassageResult:
    """The counts of one passage and the items behind its errors."""

    passage: Passage
    counts: dict[str, Counts]
    errors: dict[str, list[str]] = field(default_factory=dict)


def _ratio(part: int, whole: int, perfect_if_empty: bool) -> float:
    if whole:
        return part / whole
    return 1.0 if perfect_if_empty else 0.0


def load_passages(language: str, data: Path = DATA) -> list[Passage]:
    """Read and check one language's labelled passages; raise ValueError on a bad label."""
    passages = []
    path = data / f"{language}.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(line for line in lines if line.strip()):
        record = json.loads(line)
        entities = tuple(
            GoldEntity(e["text"], e["type"], tuple(e.get("aliases", ())))
            for e in record["entities"]
        )
        relations = tuple(
            GoldRelation(r["subject"], r["type"], r["object"]) for r in record["relations"]
        )
        passage = Passage(record["id"], language, index, record["text"], entities, relations)
        problems = check(passage)
        if problems:
            raise ValueError(f"{path.name} {passage.id}: " + "; ".join(problems))
        passages.append(passage)
    return passages


def check(passage: Passage) -> list[str]:
    """What is wrong with a passage's labels: unknown types, absent spans, dangling ends."""
    problems = []
    keys: set[str] = set()
    for entity in passage.entities:
        if entity.type not in ENTITY_TYPES:
            problems.append(f"entity {entity.text!r} has unknown type {entity.type!r}")
        for surface in (entity.text, *entity.aliases):
            if surface not in passage.text:
                problems.append(f"{surface!r} does not appear in the text")
            if normalise_key(surface) in keys:
                problems.append(f"{surface!r} is labelled twice")
            keys.add(normalise_key(surface))
    names = {entity.text for entity in passage.entities}
    for relation in passage.relations:
        if relation.type not in GOLD_RELATION_TYPES:
            problems.append(f"relation type {relation.type!r} is not on the closed list")
        for end in (relation.subject, relation.object):
            if end not in names:
                problems.append(f"relation end {end!r} is not a gold entity")
    return problems


def evaluate(
    passages: Sequence[Passage], extractor: Extractor | None = None, *, one_file: bool = False
) -> list[PassageResult]:
    """Score the extractor (heuristic by default) on each passage, alone or as a file's chunk."""
    if extractor is None:
        extractor = HeuristicExtractor()
    extractor.load()
    if not one_file:
        return [score(p, extractor.extract([Chunk(0, p.text, 0, len(p.text))])) for p in passages]
    results: list[PassageResult] = []
    for language in dict.fromkeys(passage.language for passage in passages):
        members = [passage for passage in passages if passage.language == language]
        chunks, start = [], 0
        for index, passage in enumerate(members):
            chunks.append(Chunk(index, passage.text, start, start + len(passage.text)))
            start += len(passage.text) + 1
        extraction = extractor.extract(chunks)
        results.extend(score(p, _chunk_part(extraction, i)) for i, p in enumerate(members))
    return results


def _chunk_part(extraction: GraphExtraction, chunk_index: int) -> GraphExtraction:
    """What an extraction found in one of its chunks."""
    mentions = [m for m in extraction.mentions if m.chunk_index == chunk_index]
    keys = {mention.entity_key for mention in mentions}
    return GraphExtraction(
        [entity for entity in extraction.entities if entity.key in keys],
        mentions,
        [r for r in extraction.relations if r.chunk_index == chunk_index],
    )


def score(passage: Passage, extraction: GraphExtraction) -> PassageResult:
    """Match one passage's predictions to its gold labels."""
    gold_key = {}  # any surface's key → the key of the gold entity it names
    gold_type = {}
    for entity in passage.entities:
        key = normalise_key(entity.text)
        gold_type[key] = entity.type
        for surface in (entity.text, *entity.aliases):
            gold_key[normalise_key(surface)] = key

    def ident(key: str) -> str:
        return gold_key.get(key, key)

    predicted = [(ident(entity.key), entity.type) for entity in extraction.entities]
    found_keys = {key for key, _ in predicted if key in gold_type}
    found_typed = {key for key, kind in predicted if gold_type.get(key) == kind}
    counts = {
        name: Counts(len(found), len(predicted) - len(found), len(gold_type) - len(found))
        for name, found in (("entity_keys", found_keys), ("entities", found_typed))
    }

    gold_triples = {
        _triple(normalise_key(r.subject), r.type, normalise_key(r.object))
        for r in passage.relations
    }
    typed = [r for r in extraction.relations if r.type != RELATED_TO]
    triples = {_triple(ident(r.source_key), r.type, ident(r.target_key)) for r in typed}
    typed_pairs = {_pair(ident(r.source_key), ident(r.target_key)) for r in typed}
    pairs = {_pair(ident(r.source_key), ident(r.target_key)) for r in extraction.relations}
    gold_pairs = {_pair(subject, target) for subject, _, target in gold_triples}
    counts["relations"] = _compare(triples, gold_triples)
    counts["typed_pairs"] = _compare(typed_pairs, gold_pairs)
    counts["pairs"] = _compare(pairs, gold_pairs)

    errors = {
        "missed_entities": sorted(
            f"{key} {kind}" for key, kind in gold_type.items() if key not in found_keys
        ),
        "spurious_entities": sorted(
            f"{key} {kind}" for key, kind in predicted if key not in found_keys
        ),
        "wrong_type": sorted(
            f"{key} {kind} (gold {gold_type[key]})"
            for key, kind in predicted
            if key in found_keys and key not in found_typed
        ),
        "missed_relations": sorted(" ".join(t) for t in gold_triples - triples),
        "spurious_relations": sorted(" ".join(t) for t in triples - gold_triples),
    }
    return PassageResult(passage, counts, {name: found for name, found in errors.items() if found})


def _triple(subject: str, kind: str, target: str) -> Triple:
    if kind in SYMMETRIC_TYPES and target < subject:
        subject, target = target, subject
    return subject, kind, target


def _pair(a: str, b: str) -> Pair:
    return tuple(sorted({a, b}))


def _compare(predicted: set[Any], gold: set[Any]) -> Counts:
    hits = len(predicted & gold)
    return Counts(hits, len(predicted) - hits, len(gold) - hits)


def summarise(results: Sequence[PassageResult]) -> Summary:
    """Micro-averaged counts per language (and ``overall``), split and metric."""
    groups = [*dict.fromkeys(result.passage.language for result in results), "overall"]
    summary = {
        group: {split: {metric: Counts() for metric in METRICS} for split in SPLITS}
        for group in groups
    }
    for result in results:
        split = "held_out" if result.passage.held_out else "tuned"
        for group in (result.passage.language, "overall"):
            for metric, counts in result.counts.items():
                summary[group]["all"][metric].add(counts)
                summary[group][split][metric].add(counts)
    return summary


def report(results: Sequence[PassageResult], summary: Summary) -> str:
    """The score tables as text: P / R / F1 per metric for all, tuned and held-out passages."""
    lines = []
    for group, splits in summary.items():
        members = [r for r in results if group in ("overall", r.passage.language)]
        held_out = sum(r.passage.held_out for r in members)
        tuned = len(members) - held_out
        lines.append(f"{group}: {len(members)} passages ({tuned} tuned, {held_out} held out)")
        header = "".join(f"{split.replace('_', '-') + ' P / R / F1':>22}" for split in SPLITS)
        lines.append(f"  {'metric':<26}{header}")
        for metric, label in METRICS.items():
            cells = "".join(f"{_rates(splits[split][metric]):>22}" for split in SPLITS)
            lines.append(f"  {label:<26}{cells}")
        lines.append("")
    return "\n".join(lines)


def _rates(counts: Counts) -> str:
    return f"{counts.precision:.2f} / {counts.recall:.2f} / {counts.f1:.2f}"


def main() -> int:
    """Evaluate, print the tables (and errors with --errors) and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--errors",
        choices=("tuned", "all"),
        help="list the errors of the tuned passages (keep the held-out ones unseen) or of all",
    )
    parser.add_argument(
        "--one-file",
        action="store_true",
        help="extract each language's passages as the chunks of one file (file-wide PMI, "
        "entity merging and type votes) instead of one file per passage",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write the JSON")
    args = parser.parse_args()

    passages = [passage for language in LANGUAGES for passage in load_passages(language)]
    started = time.perf_counter()
    results = evaluate(passages, one_file=args.one_file)
    elapsed = time.perf_counter() - started
    summary = summarise(results)
    print(report(results, summary))
    if args.errors:
        for result in results:
            if result.errors and (args.errors == "all" or not result.passage.held_out):
                mark = " (held out)" if result.passage.held_out else ""
                print(f"{result.passage.id}{mark}: {result.passage.text}")
                for kind, items in result.errors.items():
                    print(f"  {kind}: {'; '.join(items)}")

    output = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "extractor": "heuristic",
        "mode": "one file per language" if args.one_file else "one file per passage",
        "seconds": round(elapsed, 3),
        "held_out": f"every {HELD_OUT_EVERY}th passage of each file (0-based index % 4 == 3)",
        "scores": {
            group: {
                split: {metric: counts.as_dict() for metric, counts in metrics.items()}
                for split, metrics in splits.items()
            }
            for group, splits in summary.items()
        },
        "errors": {
            result.passage.id: {"held_out": result.passage.held_out, **result.errors}
            for result in results
            if result.errors
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2, ensure_ascii=False) + "\n")
    print(f"written {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
