"""``make bench`` with other corpora and counts: ``--corpus``, ``--documents``, ``--set``."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.corpus import Corpus, select
from bench.options import overrides

SIZES = {
    "dispatch": {"n": 5000, "rounds": 3, "variants": False},
    "queries": {"sizes": [(10_000, 5_000)], "queries": 300},
}


def test_set_changes_one_size_with_its_type_checked() -> None:
    changed = overrides(
        ["dispatch.n=20000", "dispatch.variants=true", "queries.sizes=[[50000, 10000]]"], SIZES
    )
    assert changed == {
        "dispatch": {"n": 20000, "variants": True},
        "queries": {"sizes": [[50000, 10000]]},
    }
    with pytest.raises(ValueError, match=r"dispatch\.n"):
        overrides(["dispatch.workers=4"], SIZES)  # no such size: the message lists the known
    with pytest.raises(ValueError, match="must be int"):
        overrides(["dispatch.n=many"], SIZES)
    with pytest.raises(ValueError, match=r"scenario\.key=value"):
        overrides(["dispatch.n"], SIZES)


def test_a_corpus_directory_gives_the_documents_aibox_accepts_spread_evenly(
    tmp_path: Path,
) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("a.html", "b.pdf", "c.txt", "sub/d.md", "sub/e.docx", "f.csv"):
        (tmp_path / name).write_bytes(b"some bytes")
    (tmp_path / "g.exe").write_bytes(b"MZ")  # a type aibox refuses
    (tmp_path / "empty.txt").write_bytes(b"")
    everything, found = select("quick", Corpus((tmp_path,)))
    assert sorted(p.relative_to(tmp_path.resolve()).as_posix() for p in everything) == [
        "a.html",
        "b.pdf",
        "c.txt",
        "f.csv",
        "sub/d.md",
        "sub/e.docx",
    ]
    assert found[str(tmp_path)] == "6 documents aibox accepts"
    three, found = select("quick", Corpus((tmp_path,), documents=3))
    assert [p.name for p in three] == ["a.html", "c.txt", "d.md"]
    assert found["chosen"] == "3 of 6: one in 2, sorted by path"
    overlapping, _ = select("quick", Corpus((tmp_path, tmp_path / "sub")))
    assert len(overlapping) == 6  # a document under two of the directories counts once
    # Quick mode's MiniLM rows take a third of the documents.
    assert len(select("minilm-quick", Corpus((tmp_path,), documents=3))[0]) == 1
