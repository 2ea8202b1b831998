"""Scenario 5, retrieval: does search find the document (and the passage) a user means?

A labelled set on real documents no one here wrote, and that are not the ingestion corpus
(``bench/retrieval_corpus.py``: the Debian handbook, Traditional Chinese and English man pages
and the git manuals, as HTML, PDF, DOCX and text, some Chinese text in Big5), with three kinds
of queries (``bench/retrieval_queries.py``): verbatim phrases, bags of words found in one
document only, and natural-language questions written for a sample of passages
(``bench/data/retrieval/questions.jsonl``). For each embedder that works offline, a private
server ingests the documents through aibox's own pipeline and every query is asked through
``aibox.search.find`` in each mode (``bench/apps/retrieval_eval.py``). Reported per mode,
kind and language: hit@1, hit@3 and MRR@10 of the right document, and for questions also of
the answer passage.

``split="test"`` is what is reported; ``dev`` holds other documents of the same sources, for
trying changes without looking at the test set.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from bench.common import PY, ROOT, private_stack, run_json
from bench.ingestion import EMBEDDERS, _available_minilm

CORPUS_DIR = ROOT / "bench" / "cache" / "retrieval"
KINDS = ("phrase", "rare_words", "question")
LANGUAGES = ("en", "zh_tw")
#: Hybrid is also run with these settings, to show what the defaults' choice rests on.
VARIANTS = (
    "search_vector_weight=0",
    "search_vector_weight=0.1",
    "search_vector_weight=0.25",
    "search_vector_weight=0.5",
    "search_vector_weight=1",
    "search_fusion=rrf,search_vector_weight=1",
    "search_fusion=rrf,search_vector_weight=0.25",
)


def run(split: str, embedders: Sequence[str], variants: Sequence[str] = VARIANTS) -> dict[str, Any]:
    """Build the corpus, evaluate each available embedder, and score."""
    from bench.retrieval_corpus import build

    docs = build(CORPUS_DIR / split, split)
    out: dict[str, Any] = {
        "split": split,
        "documents": dict(Counter(f"{d.language} {d.format}" for d in docs)),
        "embedders": {},
    }
    for name in embedders:
        if name == "minilm" and (missing := _available_minilm()) is not None:
            out["embedders"][name] = {"skipped": missing}
            continue
        argv = [PY, "-m", "bench.apps.retrieval_eval", str(CORPUS_DIR / split), split]
        for variant in variants:
            argv += ["--variant", variant]
        if name == "hashing":
            argv.append("--graph")  # the graph ranking does not depend on the embedder
        with private_stack("retrieval") as stack:
            raw = run_json(stack, argv, timeout=3 * 3600, env={"AIBOX_EMBEDDER": EMBEDDERS[name]})
        scored = score(raw)
        out["embedders"][name] = scored
        out["queries"] = scored.pop("query_counts")
        hybrid = scored["modes"]["hybrid"]
        print(
            f"  retrieval {name}: {raw['documents']} documents, {raw['chunks']} chunks, "
            f"ingested in {raw['ingest_s']:.0f}s; hybrid hit@3 "
            + ", ".join(
                f"{kind} {lang} {hybrid[kind][lang]['hit@3']:.2f}"
                for kind in ("phrase", "rare_words")
                for lang in LANGUAGES
                if lang in hybrid.get(kind, {})
            ),
            flush=True,
        )
    return out


def score(raw: dict[str, Any]) -> dict[str, Any]:
    """hit@1, hit@3 and MRR@10 per mode, kind and language; the missed queries per mode."""
    queries = raw["queries"]
    modes: dict[str, Any] = {}
    misses: dict[str, list[dict[str, Any]]] = {}
    for mode, placed in raw["ranks"].items():
        table: dict[str, dict[str, list[int | None]]] = defaultdict(lambda: defaultdict(list))
        for query, ranks in zip(queries, placed, strict=True):
            table[query["kind"]][query["language"]].append(ranks["document"])
            if "passage" in ranks:
                table["question passage"][query["language"]].append(ranks["passage"])
            if ranks["document"] is None or ranks["document"] > 3:
                misses.setdefault(mode, []).append({**query, "rank": ranks["document"]})
        modes[mode] = {
            kind: {lang: metrics(values) for lang, values in sorted(by_lang.items())}
            for kind, by_lang in table.items()
        }
    counts = Counter(f"{q['kind']} {q['language']}" for q in queries)
    return {
        "embedder": raw["embedder"],
        "documents": raw["documents"],
        "chunks": raw["chunks"],
        "ingest_s": round(raw["ingest_s"], 1),
        "settings": raw["settings"],
        "latency": raw["latency"],
        "modes": modes,
        "misses": {mode: found[:40] for mode, found in misses.items()},
        "query_counts": dict(sorted(counts.items())),
    }


def metrics(ranks: Sequence[int | None]) -> dict[str, float]:
    """hit@1, hit@3 and MRR@10 of a list of 1-based ranks (None: not in the top 10)."""
    n = len(ranks)
    return {
        "n": n,
        "hit@1": sum(1 for r in ranks if r == 1) / n,
        "hit@3": sum(1 for r in ranks if r is not None and r <= 3) / n,
        "mrr": sum(1 / r for r in ranks if r is not None) / n,
    }
