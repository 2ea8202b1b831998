"""The ingestion corpus: HTML manuals installed from Debian packages, chosen deterministically.

English: the Python 3.11 documentation (package ``python3.11-doc``). Traditional Chinese: the
Debian Reference (package ``debian-reference-zh-tw``). Neither was written for aibox, so nobody
tunes the pipeline to its text. A missing package is reported and skipped, never replaced.
"""

from __future__ import annotations

from pathlib import Path

SOURCES = {
    "python3.11-doc": (Path("/usr/share/doc/python3.11/html"), "**/*.html"),
    "debian-reference-zh-tw": (Path("/usr/share/debian-reference"), "*.zh-tw.html"),
}
# (documents from python3.11-doc, documents from debian-reference-zh-tw) per mode.
# "minilm-quick" is the smaller share quick mode gives the sentence-transformers model.
SIZES = {"quick": (24, 3), "minilm-quick": (8, 1), "full": (160, 12)}


def select(mode: str) -> tuple[list[Path], dict[str, str]]:
    """The corpus files for ``mode`` and, per Debian package, what was found or missing."""
    english, chinese = SIZES[mode]
    found: dict[str, str] = {}
    files: list[Path] = []
    for package, count in (("python3.11-doc", english), ("debian-reference-zh-tw", chinese)):
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
