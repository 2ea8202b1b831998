"""The content store, on both backends: a directory, and a real S3 server (SeaweedFS)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from aibox.errors import FileNotFoundInStoreError, OwnershipError
from aibox.store.content import ContentStore, LocalContentStore, S3ContentStore
from aibox.store.files import FileStore

MIB = 1024 * 1024


@pytest.fixture(params=["local", "s3"])
def content(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ContentStore]:
    if request.param == "local":
        yield LocalContentStore(tmp_path / "storage")
        return
    server = request.getfixturevalue("s3_server")
    yield server.content_store(prefix=f"t-{os.urandom(4).hex()}")


def test_bytes_stream_in_and_read_back_then_go(content: ContentStore) -> None:
    """20 MiB in 64 KiB pieces (a multipart upload on S3: three parts), read back whole."""
    piece = os.urandom(64 * 1024)
    writer = content.writer("u1/f1")
    digest = hashlib.sha256()
    for _ in range(20 * MIB // len(piece)):
        writer.write(piece)
        digest.update(piece)
    writer.promote()
    assert content.exists("u1/f1")
    with content.local_file("u1/f1") as path:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest.hexdigest()
        copy = path
    if isinstance(content, S3ContentStore):
        assert not copy.exists()  # the temporary copy is gone with the block
    content.delete("u1/f1")
    assert not content.exists("u1/f1")
    content.delete("u1/f1")  # deleting what is gone is no error
    with pytest.raises(FileNotFoundInStoreError, match="missing"), content.local_file("u1/f1"):
        pass


def test_a_discarded_upload_leaves_nothing(content: ContentStore) -> None:
    writer = content.writer("u1/gone")
    writer.write(b"half a file")
    writer.discard()
    assert not content.exists("u1/gone")


def test_keys_cannot_leave_the_store(content: ContentStore) -> None:
    with pytest.raises(OwnershipError):
        content.writer("../elsewhere/f")


def test_location_names_where_the_bytes_are(content: ContentStore, tmp_path: Path) -> None:
    if isinstance(content, S3ContentStore):
        assert content.location("u1/f1") == f"s3://aibox/{content.prefix}u1/f1"
    else:
        assert content.location("u1/f1") == str((tmp_path / "storage" / "u1" / "f1").resolve())


def test_file_records_over_either_backend(content: ContentStore, redis_client: redis.Redis) -> None:
    """Uploads, duplicates and jobs' reads behave the same wherever the bytes are."""
    files = FileStore(redis_client, content)
    text = b"# Notes\n\nAda Lovelace lived in London.\n"

    def upload(name: str) -> tuple[Any, str]:
        staged = files.stage("u1", MIB)
        staged.write(text)
        stored = files.commit(
            staged, filename=name, file_type="md", content_type=None, duplicates="reuse"
        )
        return stored, staged.file_id

    first = upload("notes.md")[0].record
    loaded = files.load_for_job(first.file_id, user_id="u1", file_path=files.location(first))
    with files.local_file(loaded) as path:
        assert path.read_bytes() == text
    reused, staged_id = upload("again.md")
    assert reused.reused
    assert reused.record.file_id == first.file_id
    assert not content.exists(f"u1/{staged_id}")  # the duplicate's bytes are dropped
    files.delete_bytes(first)
    with pytest.raises(FileNotFoundInStoreError, match=f"file {first.file_id} are missing"):
        files.load_for_job(first.file_id)
