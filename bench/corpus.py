"""The ingestion corpus: HTML manuals installed from Debian packages, chosen deterministically.

English: the Python 3.11 documentation (package ``python3.11-doc``). Traditional Chinese: the
Debian Reference (package ``debian-reference-zh-tw``). Neither was written for aibox, so nobody
tunes the pipeline to its text. A missing package is reported and skipped, never replaced.

``python -m bench --corpus DIR`` measures another corpus instead: every file under the
directories whose type aibox accepts (HTML, PDF, DOCX, text, Markdown, CSV, JSON…), spread
evenly over the sorted list; ``--documents N`` sets how many (default: as many as the mode
takes from the Debian packages).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aibox.errors import UnsupportedFileTypeError
from aibox.pipeline.parsers import file_type_for

SOURCES = {
    "python3.11-doc": (Path("/usr/share/doc/python3.11/html"), "**/*.html"),
    "debian-reference-zh-tw": (Path("/usr/share/debian-reference"), "*.zh-tw.html"),
}
# (documents from python3.11-doc, documents from debian-reference-zh-tw) per mode.
# "minilm-quick" is the smaller share quick mode gives the sentence-transformers model.
SIZES = {"quick": (24, 3), "minilm-quick": (8, 1), "full": (160, 12)}


#: Files above this size are left out of a ``--corpus`` (the upload limit's default).
MAX_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Corpus:
    """Where the documents come from: the Debian packages, or ``directories``."""

    directories: Sequence[Path] = ()
    documents: int | None = None  # None: the mode's size


def select(mode: str, corpus: Corpus | None = None) -> tuple[list[Path], dict[str, str]]:
    """The corpus files for ``mode`` and, per source, what was found or missing."""
    total = _count(mode, corpus)
    if corpus is not None and corpus.directories:
        return _from_directories(corpus.directories, total)
    english = max(1, round(total * SIZES[mode][0] / sum(SIZES[mode])))
    found: dict[str, str] = {}
    files: list[Path] = []
    for package, count in (
        ("python3.11-doc", english),
        ("debian-reference-zh-tw", total - english),
    ):
        if count < 1:
            continue
        root, pattern = SOURCES[package]
        candidates = sorted(
            p for p in root.glob(pattern) if p.is_file() and 8_000 <= p.stat().st_size <= 160_000
        )
        if not candidates:
            found[package] = f"missing: {root} not found (apt-get install {package})"
            continue
        step = max(1, len(candidates) // count)
        chosen = candidates[::step][:count]
        files += chosen
        found[package] = f"{len(chosen)} of {len(candidates)} HTML files in {root}"
    return files, found


def _count(mode: str, corpus: Corpus | None) -> int:
    """The mode's number of documents, scaled to ``--documents`` when given."""
    base = sum(SIZES[mode])
    if corpus is None or not corpus.documents:
        return base
    hashing_mode = "quick" if mode == "minilm-quick" else mode
    return max(1, corpus.documents * base // sum(SIZES[hashing_mode]))


def _from_directories(directories: Sequence[Path], count: int) -> tuple[list[Path], dict[str, str]]:
    found: dict[str, str] = {}
    unique: set[Path] = set()  # directories may overlap
    for root in directories:
        accepted = {p.resolve() for p in root.rglob("*") if _accepted(p)}
        found[str(root)] = (
            f"{len(accepted)} documents aibox accepts" if root.is_dir() else "missing: not found"
        )
        unique |= accepted
    candidates = sorted(unique)
    step = max(1, len(candidates) // count) if candidates else 1
    chosen = candidates[::step][:count]
    found["chosen"] = f"{len(chosen)} of {len(candidates)}: one in {step}, sorted by path"
    return chosen, found


def file_type(path: Path) -> str:
    """aibox's type for a corpus file, from its name."""
    return file_type_for(path.name)


def _accepted(path: Path) -> bool:
    if not path.is_file() or not 0 < path.stat().st_size <= MAX_BYTES:
        return False
    try:
        file_type(path)
    except UnsupportedFileTypeError:
        return False
    return True
