"""Hostile uploads through the HTTP API: each fails clearly or completes, nothing else is harmed.

The cases (tests/api/hostile_inputs.py) add to those of test_documents_e2e.py: huge lines and
fields, bad encodings, markup and data nested 100k deep, a million attributes, entity bombs and
XXE in DOCX, zip bombs that lie about their sizes, broken PDF cross-references, executables and
archives under document names. Names that try to leave the storage directory are checked too.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from aibox import app
from aibox.services import file_store
from aibox.settings import get_settings
from tests.api.hostile_inputs import CASES, Case
from tests.api.test_files_e2e import upload, wait_until_done

USER = "local"
# What must never reach a user: Python's own words instead of aibox's.
PYTHON_LEAKS = re.compile(
    r"Traceback|object has no attribute|\b[A-Z][A-Za-z]*(?:Error|Exception)\b|<class |File \""
)


def _all_chunk_text(api: TestClient, file_id: str) -> str:
    texts: list[str] = []
    while True:
        response = api.get(f"/api/v1/files/{file_id}/chunks?offset={len(texts)}&limit=1000")
        assert response.status_code == 200, response.text
        page = [c["text"] for c in response.json()["data"]]
        texts += page
        if len(page) < 1000:
            return "\n".join(texts)


def _check_outcome(api: TestClient, case: Case, submitted: dict[str, Any]) -> None:
    status = wait_until_done(api, submitted["file_id"], timeout=300)
    message = status["message"] or ""
    assert status["status"] == case.outcome, (case.name, status)
    assert not PYTHON_LEAKS.search(message), (case.name, message)
    job = api.get(f"/api/v1/jobs/{submitted['job_id']}").json()["data"]
    assert "Traceback" not in (job["error"] or ""), (case.name, job["error"])
    if case.outcome == "failed":
        assert any(w in message for w in case.words), (case.name, message)
        assert not PYTHON_LEAKS.search(status["error"] or ""), (case.name, status["error"])
        assert job["state"] == "failed", (case.name, job)
        assert job["retries"] == 0, case.name  # bad input is permanent: no retry
        record = api.get(f"/api/v1/files/{submitted['file_id']}").json()["data"]
        assert record["error"], (case.name, record)
        assert not PYTHON_LEAKS.search(record["error"]), (case.name, record)
        return
    assert job["state"] == "finished", (case.name, job)
    text = _all_chunk_text(api, submitted["file_id"])
    assert all(w in text for w in case.words), (case.name, text[:300])
    assert not any(a in text for a in case.absent), (case.name, text[:300])


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_hostile_files_end_clearly_and_the_worker_keeps_serving(
    api: TestClient, redis_client: redis.Redis, worker: subprocess.Popen[bytes]
) -> None:
    good_before = upload(api, "before.md", b"# Before\n\nAda Lovelace lived in London.\n")
    submitted = {case.name: upload(api, case.name, case.make()) for case in CASES}
    failures = []
    for case in CASES:
        try:
            _check_outcome(api, case, submitted[case.name])
        except AssertionError as exc:  # report every case that misbehaves, not just the first
            failures.append(f"{case.name}: {exc}")
    assert not failures, "\n".join(failures)
    assert wait_until_done(api, good_before["file_id"])["status"] == "completed"
    # The worker process is alive, answers a ping and processes an ordinary document.
    assert worker.poll() is None, "the worker process died"
    assert app.control.ping(timeout=5), "no worker answered a ping"
    after = upload(api, "after.md", b"# After\n\nAlan Turing worked in Manchester.\n")
    assert wait_until_done(api, after["file_id"])["status"] == "completed"
    assert "Alan Turing" in _all_chunk_text(api, after["file_id"])


def _raw_upload(api: TestClient, filename: bytes, content: bytes) -> Any:
    """A multipart upload with the file name's bytes exactly as given (no client escaping)."""
    boundary = b"hostile-boundary-7f3a"
    body = (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        b"Content-Type: text/plain\r\n\r\n" + content + b"\r\n--" + boundary + b"--\r\n"
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"}
    return api.post("/api/v1/files", content=body, headers=headers)


HOSTILE_NAMES = [
    b"../../../../evil-up.txt",
    b"..\\..\\..\\evil-back.txt",
    b"/tmp/evil-absolute.txt",
    b"notes/../../evil-mid.txt",
    b"....//....//evil-dots.txt",
    b"..",
    b"evil\x00.txt",
    b"evil-nul.txt\x00.png",
    b"%2e%2e%2fevil-encoded.txt",
]


def test_file_names_never_leave_the_users_storage(
    api: TestClient, redis_client: redis.Redis, tmp_path: Path
) -> None:
    storage = get_settings().storage_path.resolve()
    user_dir = storage / USER
    accepted: list[dict[str, Any]] = []
    for index, name in enumerate(HOSTILE_NAMES):
        content = f"Note {index}: Rosalind Franklin studied DNA in London.\n".encode()
        response = _raw_upload(api, name, content)
        body = response.json()
        if response.status_code != 202:  # refused: clearly, and with nothing stored
            assert 400 <= response.status_code < 500, (name, response.text)
            assert body["success"] is False, (name, body)
            assert body["message"], (name, body)
            assert not PYTHON_LEAKS.search(body["message"]), (name, body)
            continue
        data = body["data"]
        stored = data["filename"]
        assert not set(stored) & {"/", "\\", "\x00"}, (name, stored)
        assert stored not in {"", ".", ".."}, (name, stored)
        record = file_store().get(data["file_id"])
        assert record is not None
        path = file_store().path_of(record)
        assert path.resolve().parent == user_dir, (name, path)
        assert path.read_bytes() == content, name
        accepted.append(data)
    assert accepted, "every hostile name was refused; expected most to be stored safely"
    for data in accepted:
        assert wait_until_done(api, data["file_id"])["status"] == "completed", data
    # Nothing was written where the names pointed.
    for directory in {storage, storage.parent, storage.parent.parent, Path("/tmp"), tmp_path}:
        leaked = list(directory.glob("evil*"))
        assert leaked == [], leaked
    assert sorted(p.name for p in storage.iterdir() if p.is_file()) == []
