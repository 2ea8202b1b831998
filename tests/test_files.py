"""File store: names never become paths, size limit, records checked against jobs."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from aibox.errors import FileNotFoundInStoreError, OwnershipError
from aibox.files import FileStore, FileTooLargeError, sanitise_filename


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.txt", "report.txt"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\notes.md", "notes.md"),
        ("a/b/../c.txt", "c.txt"),
        ("..", "upload"),
        ("bad\x00name\n.txt", "bad_name_.txt"),
        ("台積電報告.txt", "台積電報告.txt"),
    ],
)
def test_sanitise_filename(name: str, expected: str) -> None:
    assert sanitise_filename(name) == expected


def test_upload_is_stored_under_ids_not_names(redis_client: redis.Redis, tmp_path: Path) -> None:
    store = FileStore(redis_client, tmp_path)
    record = store.save_upload(
        [b"hello ", b"world"],
        user_id="u1",
        filename="../../evil.txt",
        file_type="txt",
        content_type="text/plain",
        max_bytes=100,
    )
    path = store.path_of(record)
    assert path == tmp_path / "u1" / record.file_id
    assert path.read_bytes() == b"hello world"
    assert record.filename == "evil.txt"
    assert record.size == 11
    assert store.get(record.file_id) == record
    assert store.get_owned(record.file_id, "u2") is None
    assert [r.file_id for r in store.list_for_user("u1")] == [record.file_id]


def test_upload_over_the_limit_leaves_nothing(redis_client: redis.Redis, tmp_path: Path) -> None:
    store = FileStore(redis_client, tmp_path)
    with pytest.raises(FileTooLargeError):
        store.save_upload(
            [b"x" * 60, b"x" * 60],
            user_id="u1",
            filename="big.txt",
            file_type="txt",
            content_type=None,
            max_bytes=100,
        )
    assert not any(p.is_file() for p in tmp_path.rglob("*"))
    assert store.list_for_user("u1") == []


def test_jobs_cannot_redirect_a_file_to_another_user_or_path(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    store = FileStore(redis_client, tmp_path)
    record = store.save_upload(
        [b"text"],
        user_id="u1",
        filename="a.txt",
        file_type="txt",
        content_type=None,
        max_bytes=100,
    )
    assert store.load_for_job(record.file_id, user_id="u1", file_path=str(store.path_of(record)))
    with pytest.raises(OwnershipError):
        store.load_for_job(record.file_id, user_id="u2")
    with pytest.raises(OwnershipError):
        store.load_for_job(record.file_id, file_path="/etc/passwd")
    with pytest.raises(FileNotFoundInStoreError):
        store.load_for_job("no-such-file")
    store.update(record.file_id, path="../../etc/passwd")
    tampered = store.get(record.file_id)
    assert tampered is not None
    with pytest.raises(OwnershipError, match="leaves the storage dir"):
        store.path_of(tampered)
