"""Multi-file uploads: 202 / 207 / single-file statuses, limits, names and the type allowlist."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from aibox import keys
from aibox.api.deps import current_settings
from aibox.api.main import app
from aibox.services import file_store
from aibox.settings import Settings, get_settings
from tests.api.test_files_e2e import wait_until_done

USER = "local"
BOUNDARY = "test-boundary-7d1f"


def multipart(*parts: tuple[str, bytes, bytes]) -> bytes:
    """A raw multipart body from (field, raw Content-Disposition parameters, data) parts."""
    out = b""
    for field, params, data in parts:
        out += f"--{BOUNDARY}\r\n".encode()
        out += b'Content-Disposition: form-data; name="' + field.encode() + b'"' + params + b"\r\n"
        out += b"\r\n" + data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def post_raw(api: TestClient, body: bytes) -> Any:
    content_type = f"multipart/form-data; boundary={BOUNDARY}"
    return api.post("/api/v1/files", content=body, headers={"Content-Type": content_type})


@pytest.fixture
def limits() -> Iterator[Any]:
    """Sets upload settings for the API while the test runs."""

    def set_limits(**values: Any) -> None:
        app.dependency_overrides[current_settings] = lambda: Settings(**values)

    yield set_limits
    app.dependency_overrides.clear()


def _stored() -> set[str]:
    storage = get_settings().storage_path / USER
    return {p.name for p in storage.iterdir()} if storage.exists() else set()


@pytest.fixture
def stored_names(redis_client: redis.Redis) -> Any:
    """Names of the files the test added to the user's storage directory."""
    before = _stored()
    return lambda: _stored() - before


def test_several_files_in_one_request_are_all_queued(
    api: TestClient, redis_client: redis.Redis, stored_names: Any
) -> None:
    docs = {
        "one.md": b"# One\n\nAda Lovelace lived in London.\n",
        "two.txt": b"Alan Turing worked in Manchester.\n",
        "three.json": b'{"name": "Grace Hopper", "employer": "Harvard University"}',
    }
    response = api.post(
        "/api/v1/files", files=[("files", (n, c, "text/plain")) for n, c in docs.items()]
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    assert (data["accepted"], data["rejected"], data["truncated"]) == (3, 0, False)
    assert [f["filename"] for f in data["files"]] == list(docs)
    assert [f["index"] for f in data["files"]] == [0, 1, 2]
    assert [f["file_type"] for f in data["files"]] == ["md", "txt", "json"]
    for submitted, content in zip(data["files"], docs.values(), strict=True):
        assert submitted["status"] == "queued"
        assert submitted["size"] == len(content)
        assert submitted["error"] is None
        record = file_store().get(submitted["file_id"])
        assert record is not None
        assert file_store().path_of(record).read_bytes() == content
        assert wait_until_done(api, submitted["file_id"])["status"] == "completed"
    assert redis_client.zcard(keys.user_files(USER)) == 3
    assert stored_names() == {f["file_id"] for f in data["files"]}


def test_refused_files_give_207_with_a_reason_each(
    api: TestClient, redis_client: redis.Redis, limits: Any, stored_names: Any
) -> None:
    limits(max_upload_bytes=1024)
    response = api.post(
        "/api/v1/files",
        files=[
            ("files", ("good.md", b"# Good\n\nParis is in France.\n", "text/markdown")),
            ("files", ("photo.png", b"\x89PNG\r\n\x1a\n", "image/png")),
            ("files", ("tool.exe", b"MZ\x90\x00", "application/octet-stream")),
            ("files", ("big.txt", b"a" * 4096, "text/plain")),
            ("files", ("after.txt", b"never read", "text/plain")),
        ],
    )
    assert response.status_code == 207, response.text
    assert response.headers["connection"] == "close"  # the rest of the body was not read
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    assert (data["accepted"], data["rejected"], data["truncated"]) == (1, 3, True)
    good, png, exe, big = data["files"]  # "after.txt" was never read
    assert good["status"] == "queued"
    for refused, status, code in ((png, 415, "unsupported_file_type"), (exe, 415, None)):
        assert refused["status"] == "rejected"
        assert refused["file_id"] is None  # refused from its headers: nothing was stored
        assert refused["error"]["status"] == status
        assert refused["error"]["code"] == (code or "unsupported_file_type")
    assert png["error"]["message"] == "unsupported file type: .png"
    assert big["error"] == {
        "status": 413,
        "code": "file_too_large",
        "message": "file is larger than the 1024-byte limit",
    }
    assert stored_names() == {good["file_id"]}
    assert redis_client.zcard(keys.user_files(USER)) == 1
    assert big["file_id"] is None  # refused: no file, and no id that would answer 404
    progress = api.get(f"/api/v1/files/{big['upload_id']}/upload").json()["data"]
    assert progress["status"] == "failed"
    assert progress["file_id"] is None
    assert "1024-byte limit" in progress["message"]
    wait_until_done(api, good["file_id"])


@pytest.mark.parametrize(
    ("name", "content", "content_type", "status", "code"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n", "image/png", 415, "unsupported_file_type"),
        ("big.txt", b"a" * 2048, "text/plain", 413, "file_too_large"),
    ],
)
def test_a_single_refused_file_keeps_its_status(
    api: TestClient,
    redis_client: redis.Redis,
    limits: Any,
    name: str,
    content: bytes,
    content_type: str,
    status: int,
    code: str,
    stored_names: Any,
) -> None:
    limits(max_upload_bytes=1024)
    for field in ("files", "file"):
        response = api.post("/api/v1/files", files={field: (name, content, content_type)})
        assert response.status_code == status, response.text
        body = response.json()
        assert (body["success"], body["code"]) == (False, code)
        refused = body["data"]["files"][0] if field == "files" else body["data"]
        assert refused["error"]["code"] == code
    assert redis_client.zcard(keys.user_files(USER)) == 0
    assert stored_names() == set()


def test_more_files_than_allowed_is_413_and_stores_nothing(
    api: TestClient, redis_client: redis.Redis, limits: Any, stored_names: Any
) -> None:
    limits(max_files_per_upload=2)
    files = [("files", (f"f{i}.txt", f"text {i}".encode(), "text/plain")) for i in range(3)]
    response = api.post("/api/v1/files", files=files)
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "too_many_files"
    assert "at most 2 files" in response.json()["message"]
    assert redis_client.zcard(keys.user_files(USER)) == 0
    assert stored_names() == set()
    for key in redis_client.scan_iter(match=keys.upload_progress("*")):
        assert '"status":"failed"' in str(redis_client.get(key))


def test_the_single_file_field_keeps_its_old_response(api: TestClient) -> None:
    response = api.post("/api/v1/files", files={"file": ("a.md", b"# A\n\nRome.\n", "text/plain")})
    assert response.status_code == 202
    body = response.json()
    assert body["message"] == "file accepted for processing"
    data = body["data"]
    assert (data["status"], data["filename"], data["size"]) == ("queued", "a.md", 11)
    assert data["job_id"]
    wait_until_done(api, data["file_id"])


@pytest.mark.parametrize(
    ("raw_name", "stored_name", "file_type"),
    [
        (b"../../etc/passwd", "passwd", "txt"),
        (b"..\\..\\Windows\\System32\\drivers.md", "drivers.md", "md"),
        (b"C:\\Users\\me\\notes.md", "notes.md", "md"),
        (b"/absolute/path/report.txt", "report.txt", "txt"),
        (b"bad\x01name\x7f\x1b.txt", "bad_name_.txt", "txt"),
        (b"evil\x00.txt", "evil_.txt", "txt"),
        (b"\xe5\x8f\xb0\xe7\xa9\x8d\xe9\x9b\xbb.md", "台積電.md", "md"),
        (b"a" * 1000 + b".md", "a" * 252 + ".md", "md"),
        (b"", "upload", "txt"),
        (b"..", "upload", "txt"),
    ],
)
def test_file_names_are_sanitised_and_never_used_as_paths(
    api: TestClient,
    redis_client: redis.Redis,
    raw_name: bytes,
    stored_name: str,
    file_type: str,
    stored_names: Any,
) -> None:
    params = b'; filename="' + raw_name + b'"\r\nContent-Type: application/octet-stream'
    response = post_raw(api, multipart(("files", params, b"Plain text about Paris.\n")))
    assert response.status_code == 202, response.text
    submitted = response.json()["data"]["files"][0]
    assert (submitted["filename"], submitted["file_type"]) == (stored_name, file_type)
    record = file_store().get(submitted["file_id"])
    assert record is not None
    assert record.filename == stored_name
    path = file_store().path_of(record)
    assert path == get_settings().storage_path / USER / submitted["file_id"]
    assert path.read_bytes() == b"Plain text about Paris.\n"
    assert stored_names() == {submitted["file_id"]}
    assert not (get_settings().storage_path.parent / "etc").exists()


def test_a_name_longer_than_a_part_header_may_be_is_a_clean_400(
    api: TestClient, redis_client: redis.Redis, stored_names: Any
) -> None:
    params = b'; filename="' + b"x" * 5000 + b'.txt"'
    response = post_raw(api, multipart(("files", params, b"text")))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "bad_request"
    assert "header size" in response.json()["message"]
    assert stored_names() == set()


def test_other_form_fields_are_ignored_and_a_body_without_files_is_422(
    api: TestClient, redis_client: redis.Redis
) -> None:
    body = multipart(("note", b"", b"hello"), ("files", b'; filename="a.txt"', b"Rome.\n"))
    response = post_raw(api, body)
    assert response.status_code == 202, response.text
    assert response.json()["data"]["accepted"] == 1
    wait_until_done(api, response.json()["data"]["files"][0]["file_id"])
    response = post_raw(api, multipart(("note", b"", b"hello")))
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    response = api.post("/api/v1/files", json={"files": []})
    assert response.status_code == 422


def test_truncated_and_malformed_bodies_are_400_and_leave_nothing(
    api: TestClient, redis_client: redis.Redis, stored_names: Any
) -> None:
    whole = multipart(("files", b'; filename="a.txt"', b"some text " * 100))
    response = post_raw(api, whole[: len(whole) // 2])
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "bad_request"
    response = post_raw(api, b"this is not multipart at all")
    assert response.status_code == 400
    assert stored_names() == set()
    assert redis_client.zcard(keys.user_files(USER)) == 0


def test_the_schema_documents_a_multipart_files_array(api: TestClient) -> None:
    operation = api.get("/openapi.json").json()["paths"]["/api/v1/files"]["post"]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    files = schema["properties"]["files"]
    assert files["type"] == "array"
    assert files["items"] == {"type": "string", "contentMediaType": "application/octet-stream"}
    assert (files["minItems"], files["maxItems"]) == (1, get_settings().max_files_per_upload)
    assert schema["required"] == ["files"]
    assert {"202", "207", "413", "415"} <= set(operation["responses"])
