"""Real documents in (HTML, PDF, DOCX no one here wrote), hostile ones refused, worker unharmed."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from pypdf import PdfReader, PdfWriter

from tests.api.test_files_e2e import upload, wait_until_done

DOCS = Path(__file__).resolve().parent.parent / "data" / "docs"

# (fixture, a phrase that appears in it) — the phrase is searched for after processing.
REAL = [
    ("python-tutorial-appetite.html", "Python is simple to use, but it is a real programming"),
    ("python-tutorial-appetite.pdf", "Python is simple to use, but it is a real programming"),
    ("python-tutorial-appetite.docx", "Python is simple to use, but it is a real programming"),
    ("debian-reference-ch04.zh-tw.html", "一般的 Unix 認證由 PAM"),
    ("debian-reference-ch04.zh-tw.pdf", "一般的 Unix 認證由 PAM"),
    ("debian-reference-ch04.zh-tw.docx", "一般的 Unix 認證由 PAM"),
]


def _search(api: TestClient, query: str, k: int = 3) -> list[dict[str, Any]]:
    response = api.post("/api/v1/search", json={"query": query, "k": k})
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def test_real_documents_complete_and_search_finds_their_passages(api: TestClient) -> None:
    submitted = {name: upload(api, name, (DOCS / name).read_bytes()) for name, _ in REAL}
    for name, _ in REAL:
        status = wait_until_done(api, submitted[name]["file_id"], timeout=180)
        assert status["status"] == "completed", (name, status)
        assert status["chunking"]["chunk_count"] >= 1
    for name, phrase in REAL:
        file_id = submitted[name]["file_id"]
        chunks = api.get(f"/api/v1/files/{file_id}/chunks?limit=1000").json()["data"]
        assert any(_squash(phrase) in _squash(c["text"]) for c in chunks), (name, phrase)
        if name.endswith(".pdf"):
            pages = [c["page"] for c in chunks]
            assert pages[0] == 1
            assert pages == sorted(pages)
        top = _search(api, phrase)
        assert any(
            h["file_id"] == file_id and _squash(phrase) in _squash(h["text"]) for h in top
        ) or any(_squash(phrase) in _squash(h["text"]) for h in top), (name, top)


def _squash(text: str) -> str:
    return "".join(text.split())


def _truncated_pdf() -> bytes:
    data = (DOCS / "python-tutorial-appetite.pdf").read_bytes()
    return data[: len(data) // 3]


def _encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(DOCS / "python-tutorial-appetite.pdf"))
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _zip_bomb_docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * (300 * 1024 * 1024))
    return out.getvalue()


def _nested_html() -> bytes:
    depth = 50_000
    return b"<html><body>" + b"<div>" * depth + b"deep text" + b"</div>" * depth + b"</html>"


HOSTILE: list[tuple[str, Any, tuple[str, ...]]] = [
    ("truncated.pdf", _truncated_pdf, ("truncated", "damaged")),
    ("locked.pdf", _encrypted_pdf, ("encrypted",)),
    ("bomb.docx", _zip_bomb_docx, ("zip bomb",)),
    ("binary.txt", lambda: bytes(range(256)) * 64, ("binary",)),
    ("empty.txt", lambda: b"", ("empty",)),
    ("image.pdf", lambda: b"\x89PNG\r\n\x1a\n" + b"\0" * 64, ("unsupported file type",)),
    ("archive.docx", lambda: _plain_zip(), ("unsupported file type",)),
    ("bad.json", lambda: b'{"a": [1, 2,', ("JSON is not valid",)),
    ("latin.txt", lambda: b"\xff\xfe\xfd" * 10 + b"\x00" * 20, ("binary",)),
]


def _plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("notes.txt", "not a word document")
    return out.getvalue()


@pytest.mark.slow
def test_hostile_files_fail_clearly_and_the_worker_keeps_serving(
    api: TestClient, redis_client: redis.Redis, worker: subprocess.Popen[bytes]
) -> None:
    good_before = upload(api, "before.md", b"# Before\n\nAda Lovelace lived in London.\n")
    bad = {name: upload(api, name, make()) for name, make, _ in HOSTILE}
    nested = upload(api, "nested.html", _nested_html())
    good_after = upload(api, "after.md", b"# After\n\nAlan Turing worked in Manchester.\n")
    for name, _, words in HOSTILE:
        status = wait_until_done(api, bad[name]["file_id"], timeout=120)
        assert status["status"] == "failed", (name, status)
        message = status["message"]
        assert any(w in message for w in words), (name, message)
        assert "Traceback" not in message
        job = api.get(f"/api/v1/jobs/{bad[name]['job_id']}").json()["data"]
        assert job["state"] == "failed", (name, job)
        assert job["retries"] == 0, name
    # Deep nesting must neither crash the worker nor hang: it ends, one way or the other.
    assert wait_until_done(api, nested["file_id"], timeout=120)["status"] in {"completed", "failed"}
    for good in (good_before, good_after):
        assert wait_until_done(api, good["file_id"])["status"] == "completed"
    assert worker.poll() is None, "the worker process died"
