"""The retrieval corpus: English and Traditional Chinese documents from installed Debian packages.

Sources (none is python3.11-doc or debian-reference-zh-tw, the ingestion corpus):

* ``handbook-en``: The Debian Administrator's Handbook, HTML (package ``debian-handbook``);
* ``handbook-zh``: its zh-TW pages, only those that are really translated: most of them are
  still English, so a page is taken when Han-script lines carry most of its prose;
* ``git-doc``: git's manual pages and guides, HTML (package ``git-doc``);
* ``man-en``: the Linux man pages (package ``manpages``), rendered to text by groff;
* ``man-zh``: the Traditional Chinese man pages (package ``manpages-zh``), rendered likewise.

Each source's files are sorted, shuffled with a fixed seed and walked; a file is taken when its
text is 3–200 KB, mostly letters, in its source's language, not a copy of one already taken and
not the English original of a Chinese page in the corpus (which would answer the same
questions), and dealt to whichever split (dev or test) is least full. The splits therefore share
sources and formats and never a document. Each split's documents are then given formats, per
language: a few PDF (printed by headless Chromium) and DOCX (python-docx, from the text's
paragraphs), for Chinese a few Big5 (cp950) text files and man pages as HTML, the rest in their
own format (HTML pages stay HTML, man pages plain UTF-8 text as ``man page > page.txt`` writes
them). Without Chromium the PDFs are written as HTML, with a warning and a ``note`` on the
document.

``build(dest, split)`` writes the files under ``dest/<source>/`` and ``dest/manifest.json``;
a complete earlier build of the same split is reused. ``source_text(doc)`` is the text a reader
sees in the document's original (the HTML page, or the rendered man page) as aibox parses it:
queries and answers are taken from it.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import html
import json
import logging
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import docx

from aibox.pipeline.parsers import parse_bytes, parse_file

logger = logging.getLogger(__name__)

SPLITS = ("dev", "test")
LANGUAGES = ("en", "zh_tw")
#: Bumped when the plan or the conversion changes: an older build is then rebuilt.
BUILD_VERSION = 4
SEED = "aibox-retrieval-corpus"

MIN_TEXT_BYTES = 3_000
MAX_TEXT_BYTES = 200_000
#: Letters (Latin or Han) among the visible characters; character set tables have fewer.
#: Chinese prose has more punctuation (，。、：「」 are a tenth of its characters).
MIN_LETTERS = {"en": 0.8, "zh_tw": 0.7}
#: A zh-TW page is taken when Han-script lines carry at least this share of its prose.
MIN_HAN_PROSE = 0.6

GROFF_TIMEOUT_S = 20  # two manpages-zh pages (df.1, smb.conf.5) send troff into a loop
CHROMIUM_TIMEOUT_S = 120
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


@dataclass(frozen=True)
class Doc:
    """One document of the corpus, as written (or to be written) under ``dest``."""

    doc_id: str  # "<source>/<name>", e.g. "handbook-en/sect.apt-get", "man-zh/bzip2.1"
    path: Path
    language: str  # "en" | "zh_tw"
    format: str  # aibox's file type: "html", "pdf", "docx", "txt"
    encoding: str | None  # txt only: "utf-8" or "cp950" (Big5)
    source: str  # "<package>:<installed path>"
    note: str = ""  # why the format differs from the plan (PDF without Chromium), else ""


@dataclass(frozen=True)
class _Source:
    name: str
    package: str
    language: str
    kind: str  # "html" | "man"
    quota: tuple[int, int]  # documents for (dev, test)


SOURCES = (
    _Source("handbook-en", "debian-handbook", "en", "html", (7, 15)),
    _Source("git-doc", "git-doc", "en", "html", (7, 15)),
    _Source("man-en", "manpages", "en", "man", (6, 15)),
    _Source("handbook-zh", "debian-handbook", "zh_tw", "html", (1, 1)),
    _Source("man-zh", "manpages-zh", "zh_tw", "man", (19, 44)),
)
_BY_NAME = {s.name: s for s in SOURCES}
_TRANSLATIONS = {"handbook-en": "handbook-zh", "man-en": "man-zh"}
_HANDBOOK = Path("/usr/share/doc/debian-handbook/html")

#: Documents given another format than their own, per (language, split). "big5" is a txt file
#: in cp950; "html" counts every Chinese HTML document (the zh-TW handbook pages are HTML
#: already, man pages fill the rest).
FORMAT_PLAN: dict[tuple[str, str], dict[str, int]] = {
    ("en", "dev"): {"pdf": 4, "docx": 4},
    ("en", "test"): {"pdf": 5, "docx": 5},
    ("zh_tw", "dev"): {"big5": 3, "pdf": 4, "docx": 4, "html": 3},
    ("zh_tw", "test"): {"big5": 5, "pdf": 5, "docx": 5, "html": 8},
}
_EXTENSIONS = {"html": ".html", "pdf": ".pdf", "docx": ".docx", "txt": ".txt"}
#: The frozen selection: per split, each document's id, language, format and source.
PLAN = Path(__file__).resolve().parent / "data" / "retrieval" / "plan.json"

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ENGLISH_PROSE = re.compile(r"[a-z]{3,} [a-z]{2,} [a-z]{2,}")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


class CorpusError(RuntimeError):
    """The corpus cannot be built as asked."""


# --- selection ---------------------------------------------------------------------------


def plan(split: str, dest: Path) -> list[Doc]:
    """The documents ``build(dest, split)`` writes, in their formats, from the frozen plan.

    The labelled questions name these documents, so the plan is fixed in ``PLAN`` rather
    than selected anew: selection reads the text as aibox parses it, and a parser change
    (one that keeps more of a page, say) would otherwise move documents between the splits.
    ``python -m bench.retrieval_corpus`` writes a new plan from :func:`select`.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    entries = json.loads(PLAN.read_text(encoding="utf-8"))[split]
    docs = []
    for entry in entries:
        source, stem = entry["doc_id"].split("/", 1)
        path = dest / source / (stem + _EXTENSIONS[entry["format"]])
        docs.append(Doc(path=path, **entry))
    return docs


def select(split: str, dest: Path) -> list[Doc]:
    """Choose ``split``'s documents and formats from the installed packages (see the module's
    docstring); what :func:`plan` was frozen from."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    docs: list[Doc] = []
    for language in LANGUAGES:
        chosen = [
            (source, path)
            for source in SOURCES
            if source.language == language
            for path in _selected(source.name)[SPLITS.index(split)]
        ]
        formats = _formats(chosen, FORMAT_PLAN[(language, split)], split)
        for (source, path), (file_format, encoding) in zip(chosen, formats, strict=True):
            doc_id = f"{source.name}/{_stem(path)}"
            docs.append(
                Doc(
                    doc_id=doc_id,
                    path=dest / source.name / (_stem(path) + _EXTENSIONS[file_format]),
                    language=language,
                    format=file_format,
                    encoding=encoding,
                    source=f"{source.package}:{path}",
                )
            )
    return docs


def missing_sources() -> dict[str, str]:
    """The sources whose package is not installed, with the command that installs it."""
    return {
        s.name: f"{s.package} is not installed (apt-get install {s.package})"
        for s in SOURCES
        if not _candidates(s.name)
    }


@cache
def _selected(name: str) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """The source's files for (dev, test): walked in a seeded order, dealt to the emptier split."""
    source = _BY_NAME[name]
    candidates = list(_candidates(name))
    if not candidates:
        logger.warning("retrieval corpus: %s skipped: %s", name, missing_sources()[name])
    random.Random(f"{SEED}:{name}").shuffle(candidates)
    # A page whose translation is in the corpus would answer its questions too: left out.
    translation = _TRANSLATIONS.get(name)
    translated = (
        {_stem(p) for split in _selected(translation) for p in split} if translation else set()
    )
    picked: tuple[list[Path], list[Path]] = ([], [])
    seen: set[str] = set()
    for path in candidates:
        if all(len(p) >= q for p, q in zip(picked, source.quota, strict=True)):
            break
        if _stem(path) in translated:
            continue
        text = _canonical_text(source.kind, path, source.language)
        if text is None or not _accepted(text, source.language):
            continue
        body = text.split("\n")[3:-3]  # a man page's header and footer name the page
        fingerprint = hashlib.sha256(re.sub(r"\s+", "", "".join(body)).encode()).hexdigest()
        if fingerprint in seen:  # manpages-zh installs some pages twice (tex.1, initex.1)
            continue
        seen.add(fingerprint)
        fill = [len(p) / q if q else 1.0 for p, q in zip(picked, source.quota, strict=True)]
        target = 1 if fill[1] <= fill[0] else 0  # test first on a tie
        picked[target].append(path)
    for split, paths, quota in zip(SPLITS, picked, source.quota, strict=True):
        if len(paths) < quota:
            logger.warning(
                "retrieval corpus: %s has %d of %d %s documents", name, len(paths), quota, split
            )
    return tuple(sorted(picked[0])), tuple(sorted(picked[1]))


@cache
def _candidates(name: str) -> tuple[Path, ...]:
    """The source's installed files, sorted; those far outside the size range left out."""
    if name == "handbook-en":
        files = _glob(_HANDBOOK / "en-US", "*.html")
    elif name == "handbook-zh":
        files = [
            p
            for p in _glob(_HANDBOOK / "zh-TW", "*.html")
            if _size_ok(p, 2) and _accepted(parse_file(p, "html").text, "zh_tw")
        ]
    elif name == "git-doc":
        files = _glob(Path("/usr/share/doc/git-doc"), "*.html")
    elif name == "man-en":
        files = [p for p in _package_files("manpages") if re.search(r"/man/man\d/", str(p))]
    else:
        files = _glob(Path("/usr/share/man/zh_TW"), "man*/*")
    if _BY_NAME[name].kind == "man":
        files = [p for p in files if p.is_file() and not p.is_symlink() and _is_man_page(p)]
    else:
        files = [p for p in files if _size_ok(p, 1)]
    return tuple(sorted(files))


def _glob(root: Path, pattern: str) -> list[Path]:
    return sorted(p for p in root.glob(pattern) if p.is_file()) if root.is_dir() else []


def _package_files(package: str) -> list[Path]:
    """The files ``package`` installed (dpkg's list); none when it is not installed."""
    try:
        listing = subprocess.run(
            ["dpkg-query", "-L", package], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        return []
    if listing.returncode != 0:
        return []
    return sorted(Path(line) for line in listing.stdout.splitlines() if line.endswith(".gz"))


def _size_ok(path: Path, slack: float) -> bool:
    """A cheap first filter on the file's size, before its text is measured."""
    size = path.stat().st_size
    return MIN_TEXT_BYTES / slack <= size <= MAX_TEXT_BYTES * 4 * slack


def _is_man_page(path: Path) -> bool:
    roff = _read_roff(path)
    return not roff.lstrip().startswith(b".so ") and 1_500 <= len(roff) <= MAX_TEXT_BYTES * 2


def _accepted(text: str, language: str) -> bool:
    """Text of the right size and language, and prose rather than tables of codes."""
    if not MIN_TEXT_BYTES <= len(text.encode()) <= MAX_TEXT_BYTES:
        return False
    visible = "".join(text.split())
    if sum(1 for c in visible if c.isalpha()) < MIN_LETTERS[language] * len(visible):
        return False  # character set tables (iso_8859-1.7), key symbol lists (keysyms.3tk)
    if language == "en":
        return len(_HAN.findall(text)) < 10
    return _han_prose(text) >= MIN_HAN_PROSE


def _han_prose(text: str) -> float:
    """The share of the prose (lines of 30+ characters) set in Han script rather than English."""
    han = english = 0
    for line in text.split("\n"):
        if len(line.strip()) < 30:
            continue
        if len(_HAN.findall(line)) >= 0.25 * len("".join(line.split())):
            han += len(line)
        elif _ENGLISH_PROSE.search(line) and not _HAN.search(line):
            english += len(line)
    return han / (han + english) if han + english else 0.0


def _formats(
    chosen: list[tuple[_Source, Path]], quotas: dict[str, int], split: str
) -> list[tuple[str, str | None]]:
    """Each chosen document's (format, encoding): quotas drawn from the sources in turn."""
    formats: list[tuple[str, str | None]] = [
        ("html", None) if s.kind == "html" else ("txt", "utf-8") for s, _ in chosen
    ]
    free = {i for i, (s, _) in enumerate(chosen) if s.name != "handbook-zh"}  # zh HTML is rare
    order = sorted(free, key=lambda i: hashlib.sha256(f"{SEED}:{split}:{i}".encode()).digest())
    for wanted, count in quotas.items():
        if wanted == "html":  # Chinese HTML: what is already HTML counts
            count -= sum(1 for f, _ in formats if f == "html")
        eligible = [i for i in order if i in free and _can_take(wanted, *chosen[i])]
        for i in _round_robin(eligible, [chosen[i][0].name for i in eligible], count):
            formats[i] = ("txt", "cp950") if wanted == "big5" else (wanted, None)
            free.discard(i)
    return formats


def _can_take(wanted: str, source: _Source, path: Path) -> bool:
    if wanted == "html":
        return source.kind == "man"
    if wanted != "big5":
        return True
    text = _canonical_text(source.kind, path, source.language) or ""
    return source.kind == "man" and _big5_round_trips(text)


def _big5_round_trips(text: str) -> bool:
    """True when ``text`` encodes in cp950 and aibox decodes those bytes back to it."""
    try:
        data = text.encode("cp950")
    except UnicodeEncodeError:
        return False
    return parse_bytes(data, "txt").text == text


def _round_robin(items: list[int], groups: list[str], count: int) -> list[int]:
    """Up to ``count`` of ``items``, taking from each group in turn (groups sorted by name)."""
    queues: dict[str, list[int]] = {}
    for item, group in zip(items, groups, strict=True):
        queues.setdefault(group, []).append(item)
    taken: list[int] = []
    while len(taken) < count and any(queues.values()):
        for group in sorted(queues):
            if queues[group] and len(taken) < count:
                taken.append(queues[group].pop(0))
    return taken


def _stem(path: Path) -> str:
    name = path.name.removesuffix(".gz")
    return name.removesuffix(".html")


# --- text ----------------------------------------------------------------------------------


def source_text(doc: Doc) -> str:
    """The text a reader sees in ``doc``'s original, as aibox parses it (queries come from it)."""
    package, _, original = doc.source.partition(":")
    kind = "man" if package.startswith("manpages") else "html"
    text = _canonical_text(kind, Path(original), doc.language)
    if text is None:
        raise CorpusError(f"{doc.doc_id}: {original} cannot be rendered")
    return text


@cache
def _canonical_text(kind: str, path: Path, language: str) -> str | None:
    """The page's text as aibox parses it; None when the man page does not render."""
    if kind == "html":
        return parse_file(path, "html").text
    rendered = render_man(path, chinese=language == "zh_tw")
    return None if rendered is None else parse_bytes(rendered.encode(), "txt").text


def render_man(path: Path, *, chinese: bool) -> str | None:
    """The man page as ``man`` shows it in 80 columns, as text; None when groff fails.

    Like man-db, Chinese pages get groff's ``zh.tmac`` (lines may break between characters).
    Hyphenation is off (``-rHY=0``, and ``.hy`` disabled) so that no word is split across lines;
    revision bars in the margin (``.mc``) are left out.
    """
    # Some pages turn hyphenation back on (.hy), the Tcl pages put change bars in the margin
    # (.mc): both requests are made no-ops.
    prologue = b".nh\n.rn hy hy@disabled\n.de hy\n..\n.rn mc mc@disabled\n.de mc\n..\n"
    if chinese:
        prologue += b".mso zh.tmac\n.hla zh\n"
    groff = ["groff", "-t", "-Kutf8", "-Tutf8", "-man", "-P-c", "-rLL=80n", "-rHY=0", "-Wall"]
    formatted = _run(groff, prologue + _read_roff(path), GROFF_TIMEOUT_S)
    if formatted is None:
        logger.info("retrieval corpus: groff failed on %s", path)
        return None
    plain = _run(["col", "-bx"], formatted, GROFF_TIMEOUT_S)
    if plain is None:
        return None
    lines = [line.rstrip() for line in plain.decode("utf-8", "replace").split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def _read_roff(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _run(
    argv: list[str], data: bytes, timeout: float, env: dict[str, str] | None = None
) -> bytes | None:
    """``argv``'s output on ``data``; None on failure or timeout (its process group is killed)."""
    env = dict(env or os.environ, LC_ALL="C.UTF-8")
    with subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    ) as process:
        try:
            out, _ = process.communicate(data, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return None
    return out if process.returncode == 0 else None


# --- building ------------------------------------------------------------------------------


def build(dest: Path, split: str) -> list[Doc]:
    """Write ``split``'s documents under ``dest`` (one directory per split) and return them.

    A complete build of the same split already in ``dest`` (its ``manifest.json``) is reused.
    Without Chromium the documents planned as PDF are written as HTML, with a warning and a
    ``note`` on the document.
    """
    cached = _load_manifest(dest, split)
    if cached is not None:
        return cached
    started = time.monotonic()
    docs = plan(split, dest)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "manifest.json").unlink(missing_ok=True)
    for name in {d.doc_id.split("/")[0] for d in docs}:
        shutil.rmtree(dest / name, ignore_errors=True)
    browser = _chromium()
    if browser is None and any(d.format == "pdf" for d in docs):
        logger.warning(
            "retrieval corpus: Chromium not found (apt-get install chromium fonts-wqy-microhei):"
            " the %d documents planned as PDF are written as HTML",
            sum(1 for d in docs if d.format == "pdf"),
        )
    with tempfile.TemporaryDirectory(prefix="retrieval-corpus-") as tmp:
        work = Path(tmp)
        _fonts_conf(work)  # before the threads start
        with ThreadPoolExecutor(max_workers=2) as pool:  # Chromium prints in the background
            written = list(pool.map(lambda d: write_document(d, browser, work), docs))
    _save_manifest(dest, split, written, time.monotonic() - started)
    return written


def write_document(doc: Doc, browser: str | None, work: Path) -> Doc:
    """Write ``doc`` in its format; a PDF is printed by ``browser`` (HTML when None or failing).

    ``work`` is a scratch directory (for the man pages' HTML printed to PDF and fonts.conf).
    Returns the document as written: another path, format and a note when the PDF fell back.
    """
    doc.path.parent.mkdir(parents=True, exist_ok=True)
    package, _, original = doc.source.partition(":")
    src = Path(original)
    is_man = package.startswith("manpages")
    text = source_text(doc)
    stem = _stem(src)
    if doc.format == "txt":
        doc.path.write_bytes(text.encode(doc.encoding or "utf-8"))
    elif doc.format == "docx":
        blocks = _man_blocks(text) if is_man else _html_blocks(doc, text)
        _write_docx(doc.path, blocks, _man_title(stem) if is_man else stem)
    elif doc.format == "html":
        if is_man:
            doc.path.write_text(_man_html(text, stem, doc.language), encoding="utf-8")
        else:
            shutil.copyfile(src, doc.path)
    else:
        page = src
        if is_man:
            page = work / f"{doc.doc_id.replace('/', '__')}.html"
            page.write_text(_man_html(text, stem, doc.language), encoding="utf-8")
        failure = (
            "Chromium not found"
            if browser is None
            else _print_pdf(browser, page, doc.path, _fonts_conf(work))
        )
        if failure:
            logger.warning("retrieval corpus: %s written as HTML: %s", doc.doc_id, failure)
            doc.path.unlink(missing_ok=True)  # what a failed print may have left
            html_doc = dataclasses.replace(
                doc,
                path=doc.path.with_suffix(".html"),
                format="html",
                note=f"planned as PDF; {failure}, written as HTML",
            )
            return write_document(html_doc, None, work)
    return doc


_FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<!-- Noto Sans CJK is embedded by Chromium as Type 3 glyphs: WenQuanYi Micro Hei instead. -->
<fontconfig>
  <include>/etc/fonts/fonts.conf</include>
  <selectfont><rejectfont><glob>/usr/share/fonts/opentype/noto/*CJK*</glob></rejectfont>
  </selectfont>
</fontconfig>
"""


def _fonts_conf(work: Path) -> Path:
    path = work / "fonts.conf"
    if not path.exists():
        path.write_text(_FONTS_CONF)
    return path


def _chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _print_pdf(browser: str, page: Path, out: Path, fonts_conf: Path) -> str:
    """Print ``page`` to ``out`` with headless Chromium; the failure, or "" on success."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        argv = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        env = dict(os.environ, FONTCONFIG_FILE=str(fonts_conf))
        if _run(argv, b"", CHROMIUM_TIMEOUT_S, env=env) is None:
            return f"Chromium failed or took more than {CHROMIUM_TIMEOUT_S} s"
    if not out.is_file() or out.stat().st_size == 0:
        return "Chromium printed nothing"
    return ""


# --- conversions ---------------------------------------------------------------------------

_Block = tuple[str, str]  # ("heading" | "para" | "lines", text)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _html_blocks(doc: Doc, text: str) -> list[_Block]:
    """The parsed page's lines as paragraphs, its headings as headings."""
    _, _, original = doc.source.partition(":")
    headings = parse_file(Path(original), "html").headings
    blocks: list[_Block] = []
    offset = 0
    for line in text.split("\n"):
        start, offset = offset, offset + len(line) + 1
        if not line.strip():
            continue
        end = start + len(line)
        is_heading = any(s < end and start < e for s, e in headings)
        blocks.append(("heading" if is_heading else "para", line.strip()))
    return blocks


def _man_blocks(text: str) -> list[_Block]:
    """A rendered man page's structure: section headings, paragraphs, indented lines as lines.

    A run of lines with one indentation is a paragraph (its lines joined, without a space
    between two Chinese characters); runs of mixed indentation (options, tables, examples)
    keep their lines.
    """
    lines = text.split("\n")
    filled = [i for i, line in enumerate(lines) if line.strip()]
    if not filled:
        return []
    blocks: list[_Block] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            indents = {len(line) - len(line.lstrip()) for line in run}
            if len(indents) == 1:
                blocks.append(("para", _join_lines(run)))
            else:
                margin = min(indents)
                blocks.append(("lines", "\n".join(line[margin:].rstrip() for line in run)))
            run.clear()

    for i, line in enumerate(lines):
        indent = len(line) - len(line.lstrip())
        if not line.strip():
            flush()
        elif i in (filled[0], filled[-1]):  # the header and footer lines
            flush()
            blocks.append(("para", " ".join(line.split())))
        elif indent <= 3:
            flush()
            blocks.append(("heading", line.strip()))
        else:
            run.append(line)
    flush()
    return blocks


def _join_lines(lines: list[str]) -> str:
    joined = ""
    for line in (line.strip() for line in lines):
        if joined and not (_CJK.match(joined[-1]) and _CJK.match(line[:1])):
            joined += " "
        joined += line
    return joined


def _man_title(stem: str) -> str:
    name, _, section = stem.rpartition(".")
    return f"{name}({section})" if name else stem


def _man_html(text: str, stem: str, language: str) -> str:
    """The rendered man page as a simple HTML page (what man-to-HTML converters make)."""
    title = html.escape(_man_title(stem))
    tags = {"heading": "h2", "para": "p", "lines": "pre"}
    body = "\n".join(
        f"<{tags[kind]}>{html.escape(_CONTROL.sub('', content))}</{tags[kind]}>"
        for kind, content in _man_blocks(text)
    )
    lang = "zh-Hant-TW" if language == "zh_tw" else "en"
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>body {{ font-family: sans-serif; max-width: 50em;"
        " margin: 2em auto; line-height: 1.5 }\npre { white-space: pre-wrap }</style>\n"
        f"</head>\n<body>\n<h1>{title}</h1>\n{body}\n</body>\n</html>\n"
    )


def _write_docx(path: Path, blocks: Iterable[_Block], title: str) -> None:
    document = docx.Document()
    document.core_properties.title = title
    for kind, content in blocks:
        content = _CONTROL.sub("", content)
        if kind == "heading":
            document.add_heading(content, level=2)
        elif kind == "para":
            document.add_paragraph(content)
        else:
            for line in content.split("\n"):
                if line.strip():
                    document.add_paragraph(line.strip())
    document.save(str(path))


# --- manifest ------------------------------------------------------------------------------


def _load_manifest(dest: Path, split: str) -> list[Doc] | None:
    """The documents of a complete earlier build of ``split`` in ``dest``, else None."""
    manifest = dest / "manifest.json"
    if not manifest.is_file():
        return None
    data = json.loads(manifest.read_text(encoding="utf-8"))
    if data.get("split") != split:
        raise CorpusError(
            f"{dest} holds the {data.get('split')!r} split, not {split!r}: "
            "build each split in its own directory"
        )
    if data.get("version") != BUILD_VERSION:
        logger.info("retrieval corpus: %s is an older build; rebuilding", dest)
        return None
    docs: list[Doc] = []
    for entry in data["documents"]:
        path = dest / entry["path"]
        if not path.is_file() or path.stat().st_size != entry["bytes"]:
            logger.info("retrieval corpus: %s is incomplete; rebuilding", dest)
            return None
        fields = {k: entry[k] for k in ("doc_id", "language", "format", "encoding", "source")}
        docs.append(Doc(path=path, note=entry.get("note", ""), **fields))
    return docs


def _save_manifest(dest: Path, split: str, docs: list[Doc], seconds: float) -> None:
    counts = Counter(
        f"{d.language}/{d.format}{'/big5' if d.encoding == 'cp950' else ''}" for d in docs
    )
    data = {
        "version": BUILD_VERSION,
        "split": split,
        "build_seconds": round(seconds, 1),
        "counts": dict(sorted(counts.items())),
        "documents": [
            {
                "doc_id": d.doc_id,
                "path": str(d.path.relative_to(dest)),
                "bytes": d.path.stat().st_size,
                "language": d.language,
                "format": d.format,
                "encoding": d.encoding,
                "source": d.source,
                "note": d.note,
            }
            for d in docs
        ],
    }
    partial = dest / "manifest.json.partial"
    partial.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    partial.replace(dest / "manifest.json")


def freeze() -> None:
    """Write ``PLAN`` from :func:`select` (new questions must then be written for it)."""
    plans = {
        split: [
            {
                "doc_id": d.doc_id,
                "language": d.language,
                "format": d.format,
                "encoding": d.encoding,
                "source": d.source,
            }
            for d in select(split, Path("."))
        ]
        for split in SPLITS
    }
    PLAN.write_text(json.dumps(plans, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    freeze()
