"""Through a real uvicorn server: a 2 GB upload is refused long before 2 GB have been sent."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import redis

from aibox import keys
from aibox.auth import tokens
from aibox.services import user_store
from aibox.settings import get_settings
from tests.support import ROOT, free_port, stop_process, wait_for

TWO_GB = 2 * 1024**3
BLOCK = b"a" * (1024 * 1024)
BOUNDARY = "aibox-test-boundary"


@pytest.fixture(scope="module")
def server(redis_server: int, tmp_root: Path) -> Iterator[str]:
    """``uvicorn aibox.api.main:app`` in a subprocess, with the tests' environment."""
    port = free_port()
    with open(tmp_root / "uvicorn-uploads.log", "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "aibox.api.main:app", "--port", str(port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: _answers(url), timeout=30, interval=0.2)
            yield url
        finally:
            stop_process(process)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def token(redis_client: redis.Redis) -> str:
    user = user_store().add("streamer", "a-long-password", role="user")
    return tokens.issue(user, get_settings())[0]


class HugeBody:
    """A 2 GB multipart body, generated, counting the bytes handed to the client."""

    def __init__(self) -> None:
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="huge.txt"\r\nContent-Type: text/plain\r\n\r\n'
        ).encode()
        tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        for piece in (head, *[BLOCK] * ((TWO_GB - len(head) - len(tail)) // len(BLOCK)), tail):
            self.sent += len(piece)
            yield piece


def post_huge(url: str, token: str, **headers: str) -> tuple[HugeBody, Any]:
    """POST the body; returns it and the response, or the transport error the client saw."""
    body = HugeBody()
    all_headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        **headers,
    }
    try:
        response = httpx.post(
            f"{url}/api/v1/files", content=iter(body), headers=all_headers, timeout=60
        )
    except httpx.TransportError as exc:  # the server closed while we were still sending
        return body, exc
    return body, response


def assert_nothing_stored(client: redis.Redis) -> None:
    storage = get_settings().storage_path / "streamer"
    assert not (storage.exists() and any(storage.iterdir()))
    assert client.zcard(keys.user_files("streamer")) == 0


@pytest.mark.slow
def test_chunked_2gb_upload_is_refused_once_the_file_passes_the_limit(
    server: str, token: str, redis_client: redis.Redis
) -> None:
    limit = get_settings().max_upload_bytes
    body, outcome = post_huge(server, token)
    print(f"chunked: {body.sent:,} bytes sent before {outcome!r} ({limit:,}-byte limit)")
    assert body.sent < limit + 64 * 1024**2, body.sent
    if isinstance(outcome, httpx.Response):
        assert outcome.status_code == 413, outcome.text
        assert outcome.json()["code"] == "file_too_large"
        assert outcome.headers["connection"] == "close"
    assert_nothing_stored(redis_client)
    upload_ids = list(redis_client.scan_iter(match=keys.upload_progress("*")))
    assert len(upload_ids) == 1
    record = redis_client.get(upload_ids[0])
    assert record is not None
    assert '"status":"failed"' in record


@pytest.mark.slow
def test_2gb_content_length_is_refused_before_any_body_is_read(
    server: str, token: str, redis_client: redis.Redis
) -> None:
    body, outcome = post_huge(server, token, **{"Content-Length": str(TWO_GB)})
    print(f"Content-Length 2 GB: {body.sent:,} bytes sent before {outcome!r}")
    assert body.sent < 64 * 1024**2, body.sent
    if isinstance(outcome, httpx.Response):
        assert outcome.status_code == 413, outcome.text
        assert outcome.json()["code"] == "request_too_large"
    assert_nothing_stored(redis_client)
    assert list(redis_client.scan_iter(match=keys.upload_progress("*"))) == []
    assert httpx.get(f"{server}/health").status_code == 200


def test_progress_is_readable_while_the_file_streams_in(
    server: str, token: str, redis_client: redis.Redis
) -> None:
    size = 8 * 1024 * 1024
    peeker = tokens.issue(user_store().add("peeker", "a-long-password"), get_settings())[0]
    seen: dict[str, Any] = {}

    def in_flight() -> dict[str, Any] | None:
        for key in redis_client.scan_iter(match=keys.upload_progress("*")):
            record = json.loads(str(redis_client.get(key)))
            if record["bytes_received"] >= 1024 * 1024:
                return dict(record)
        return None

    def body() -> Iterator[bytes]:
        yield (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="slow.txt"\r\nContent-Type: text/plain\r\nContent-Length: {size}\r\n\r\n'
        ).encode()
        yield BLOCK * 3
        record = wait_for(in_flight, timeout=10, interval=0.05)
        url = f"{server}/api/v1/files/{record['file_id']}"
        seen["owner"] = httpx.get(f"{url}/upload", headers=auth(token)).json()
        seen["other"] = httpx.get(f"{url}/upload", headers=auth(peeker)).status_code
        seen["file"] = httpx.get(url, headers=auth(token)).status_code
        yield BLOCK * 5
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    response = httpx.post(
        f"{server}/api/v1/files",
        content=body(),
        headers={**auth(token), "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        timeout=60,
    )
    assert response.status_code == 202, response.text
    during = seen["owner"]["data"]
    assert during["status"] == "uploading"
    assert during["total_bytes"] == size
    assert 1024 * 1024 <= during["bytes_received"] <= 3 * 1024 * 1024
    assert 12 <= during["progress"] <= 38
    assert seen["other"] == 404  # the record carries its uploader
    assert seen["file"] == 404  # no file record before the upload completes
    assert during["file_id"] is None  # not a file yet
    file_id = response.json()["data"]["files"][0]["file_id"]
    assert file_id == response.json()["data"]["files"][0]["upload_id"] == during["upload_id"]
    after = httpx.get(f"{server}/api/v1/files/{file_id}/upload", headers=auth(token)).json()
    assert (after["data"]["status"], after["data"]["progress"]) == ("completed", 100)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
