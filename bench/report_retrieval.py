"""The retrieval section of BENCHMARKS.md and its targets, from the ``retrieval`` scenario."""

from __future__ import annotations

from typing import Any

LANGUAGES = {"en": "English", "zh_tw": "Trad. Chinese"}
KINDS = {
    "phrase": "verbatim phrase",
    "rare_words": "rare-word bag",
    "question": "question → document",
    "question passage": "question → passage",
}
#: Target hit@3 of the default hybrid search, per query kind, in both languages.
TARGETS = {"phrase": 0.97, "rare_words": 0.93}


def targets(sc: dict[str, Any]) -> list[tuple[str, str, bool | str | None]]:
    """Rows for the targets table: hit@3 per kind and language, hybrid vs full text, latency."""
    rows: list[tuple[str, str, bool | str | None]] = []
    r = sc.get("retrieval")
    hashing = (r or {}).get("embedders", {}).get("hashing", {})
    modes = hashing.get("modes")
    if modes:
        for kind, goal in TARGETS.items():
            for lang, label in LANGUAGES.items():
                m = modes["hybrid"].get(kind, {}).get(lang)
                if m:
                    rows.append(
                        (
                            f"Retrieval, hybrid (defaults): hit@3 ≥ {goal} on "
                            f"{KINDS[kind]}s, {label}",
                            f"{m['hit@3']:.3f} (n={m['n']})",
                            m["hit@3"] >= goal,
                        )
                    )
        worse = [
            f"{kind} {lang}"
            for kind, by_lang in modes["hybrid"].items()
            for lang, m in by_lang.items()
            if m["mrr"] < modes["fulltext"][kind][lang]["mrr"] - 1e-9
        ]
        rows.append(
            (
                "Retrieval: hybrid (hashing embedder) ranks no worse than full text alone (MRR)",
                "worse on " + ", ".join(worse) if worse else "no worse on any kind and language",
                not worse,
            )
        )
    else:
        rows.append(("Retrieval quality targets", "not in this run", None))
    q = sc.get("queries")
    big = [x for x in q["sizes"] if x["chunks"] >= 100_000 and "hybrid" in x] if q else []
    for key, what in (("hybrid", "defaults"), ("hybrid_vectors", "vectors fused")):
        if big and key in big[-1]:
            p99 = big[-1][key]["p99_ms"]
            rows.append(
                (
                    f"Search (hybrid, {what}) p99 < 30 ms at {big[-1]['chunks']:,} chunks",
                    f"{p99['median']:.2f} ms ({p99['min']:.2f}–{p99['max']:.2f})",
                    p99["median"] < 30,
                )
            )
    if not big:
        rows.append(
            (
                "Search (hybrid) p99 < 30 ms at 100k chunks",
                "not in this run (quick mode loads 10k; run --full)",
                None,
            )
        )
    return rows


def section(add: Any, r: dict[str, Any]) -> None:
    """## 5. Retrieval quality."""
    add("## 5. Retrieval quality")
    add("")
    add("Does search find the document a user means? A labelled set on real documents that")
    add("nobody here wrote and that are not the ingestion corpus (`bench/retrieval_corpus.py`,")
    add("`bench/data/retrieval/README.md`): the Debian handbook, Traditional Chinese and English")
    add("man pages and the git manuals, as HTML, PDF, DOCX and text (some Chinese text in")
    add("Big5). Three kinds of queries: verbatim phrases and bags of words found in one document")
    add("only (generated, seeded), and natural-language questions written for a sample of")
    add("passages, each answered by its passage. Every document goes through aibox's own pipeline")
    add("on a private server and every query through `aibox.search.find` (what the API and the")
    add("CLI call), k=10. A question counts for *passage* when the hit holds a third of the")
    add("answer passage verbatim. Cells: hit@1 / hit@3 / MRR@10.")
    add("")
    docs = ", ".join(f"{n} {kind}" for kind, n in sorted(r.get("documents", {}).items()))
    add(f"Split `{r['split']}`: {docs}.")
    counts = r.get("queries", {})
    if counts:
        add("Queries: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()) + ".")
    add("")
    for name, e in r["embedders"].items():
        if "skipped" in e:
            add(f"Embedder {name}: skipped ({e['skipped']}).")
            add("")
            continue
        modes = [m for m in e["modes"] if not m.startswith("hybrid ")]
        add(
            f"### Embedder `{e['embedder']}`: {e['documents']} documents, {e['chunks']:,} chunks, "
            f"ingested in {e['ingest_s']:.0f} s"
        )
        add("")
        add("| query kind | language | n | " + " | ".join(modes) + " |")
        add("| --- | --- | --- | " + " | ".join("---" for _ in modes) + " |")
        first = e["modes"][modes[0]]
        for kind, label in KINDS.items():
            for lang, lang_label in LANGUAGES.items():
                if lang not in first.get(kind, {}):
                    continue
                cells = []
                for mode in modes:
                    m = e["modes"][mode][kind][lang]
                    cells.append(f"{m['hit@1']:.2f} / {m['hit@3']:.2f} / {m['mrr']:.2f}")
                n = first[kind][lang]["n"]
                add(f"| {label} | {lang_label} | {n} | " + " | ".join(cells) + " |")
        add("")
        add(
            "Search settings (`AIBOX_SEARCH_*`): "
            + ", ".join(f"{k} {v}" for k, v in e.get("settings", {}).items())
            + ". Latency on this small corpus, p50/p99 ms: "
            + ", ".join(
                f"{mode} {t['p50_ms']:.1f}/{t['p99_ms']:.1f}"
                for mode, t in e["latency"].items()
                if not mode.startswith("hybrid ")
            )
            + "."
        )
        add("")
        sweep = [m for m in e["modes"] if m.startswith("hybrid ")]
        if sweep:
            add("Hybrid with other settings (MRR@10; what the defaults rest on):")
            add("")
            columns = [
                (kind, lang) for kind in KINDS for lang in LANGUAGES if lang in first.get(kind, {})
            ]
            add(
                "| hybrid with | "
                + " | ".join(f"{KINDS[k]} {LANGUAGES[lang]}" for k, lang in columns)
                + " |"
            )
            add("| --- | " + " | ".join("---" for _ in columns) + " |")
            for mode in ["hybrid", *sweep]:
                label = "the defaults" if mode == "hybrid" else f"`{mode.split(' ', 1)[1]}`"
                cells = [f"{e['modes'][mode][k][lang]['mrr']:.3f}" for k, lang in columns]
                add(f"| {label} | " + " | ".join(cells) + " |")
            add("")
