"""File store: names never become paths, size limit, records checked against jobs, duplicates."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from aibox import keys
from aibox.errors import FileNotFoundInStoreError, FileTooLargeError, OwnershipError
from aibox.store.files import (
    DuplicatePolicy,
    FileStore,
    Stored,
    sanitise_filename,
)
from aibox.store.uploads import StagedUpload


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


def test_long_names_keep_their_extension() -> None:
    assert sanitise_filename("a" * 300 + ".docx") == "a" * 250 + ".docx"
    assert sanitise_filename("b" * 300) == "b" * 255
    assert sanitise_filename("c" * 300 + "." + "d" * 40) == ("c" * 300 + "." + "d" * 40)[:255]


def stage(store: FileStore, content: bytes, user_id: str = "u1") -> StagedUpload:
    staged = store.stage(user_id, max_bytes=1000)
    staged.write(content)
    staged.finish()
    return staged


def commit(store: FileStore, staged: StagedUpload, policy: DuplicatePolicy | None) -> Stored:
    return store.commit(
        staged, filename="a.txt", file_type="txt", content_type=None, duplicates=policy
    )


def commit_concurrently(
    store: FileStore, staged: list[StagedUpload], policy: DuplicatePolicy
) -> list[Stored]:
    """Commit every staged upload at once, one thread each, released together."""
    barrier = threading.Barrier(len(staged))

    def run(s: StagedUpload) -> Stored:
        barrier.wait()
        return commit(store, s, policy)

    with ThreadPoolExecutor(len(staged)) as pool:
        return list(pool.map(run, staged))


def test_staged_bytes_are_hashed_and_land_at_the_id_path(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    store = FileStore(redis_client, tmp_path)
    staged = stage(store, b"hello")
    part = tmp_path / "u1" / f"{staged.file_id}.part"
    assert part.is_file()  # written beside its final name until committed
    assert staged.sha256 == hashlib.sha256(b"hello").hexdigest()
    record = commit(store, staged, "reuse").record
    assert store.path_of(record).read_bytes() == b"hello"
    assert sorted(p.name for p in (tmp_path / "u1").iterdir()) == [record.file_id]
    assert redis_client.hget(keys.content_index("u1"), record.sha256) == record.file_id
    discarded = stage(store, b"gone")
    discarded.discard()
    assert not (tmp_path / "u1" / f"{discarded.file_id}.part").exists()
    assert not (tmp_path / "u1" / discarded.file_id).exists()


def test_reuse_returns_the_existing_record_and_drops_the_bytes(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    store = FileStore(redis_client, tmp_path)
    first = commit(store, stage(store, b"same"), "reuse")
    second = commit(store, stage(store, b"same"), "reuse")
    assert second == Stored(first.record, reused=True)
    assert [p.name for p in (tmp_path / "u1").iterdir()] == [first.record.file_id]
    other_user = commit(store, stage(store, b"same", "u2"), "reuse")
    assert not other_user.reused


def test_new_versions_chain_and_forgetting_one_restores_the_previous(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    store = FileStore(redis_client, tmp_path)
    v1, v2, v3 = (commit(store, stage(store, b"doc"), "new_version").record for _ in range(3))
    assert [v.version for v in (v1, v2, v3)] == [1, 2, 3]
    assert (v2.previous_version_id, v3.previous_version_id) == (v1.file_id, v2.file_id)
    index = keys.content_index("u1")
    store.forget_hash(v1)  # not the indexed one: nothing changes
    assert redis_client.hget(index, v1.sha256) == v3.file_id
    store.forget_hash(v3)
    assert redis_client.hget(index, v1.sha256) == v2.file_id
    redis_client.delete(keys.file_record(v1.file_id))  # v1 deleted meanwhile
    store.forget_hash(v2)
    assert redis_client.hget(index, v1.sha256) is None


def test_an_index_entry_whose_file_is_gone_is_no_duplicate(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    store = FileStore(redis_client, tmp_path)
    first = commit(store, stage(store, b"doc"), "reuse").record
    redis_client.delete(keys.file_record(first.file_id))
    second = commit(store, stage(store, b"doc"), "reuse")
    assert not second.reused
    assert second.record.version == 1


def test_concurrent_identical_uploads_make_one_file(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    store = FileStore(redis_client, tmp_path)
    results = commit_concurrently(store, [stage(store, b"raced") for _ in range(8)], "reuse")
    assert len({r.record.file_id for r in results}) == 1
    assert sum(not r.reused for r in results) == 1
    assert len(store.list_for_user("u1")) == 1
    assert len(list((tmp_path / "u1").iterdir())) == 1


def test_concurrent_identical_versions_form_one_chain(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    store = FileStore(redis_client, tmp_path)
    staged = [stage(store, b"raced") for _ in range(8)]
    records = [r.record for r in commit_concurrently(store, staged, "new_version")]
    # Each lost race is resolved against the winner's entry: versions 1..8, one chain.
    by_version = {r.version: r for r in records}
    assert sorted(by_version) == list(range(1, 9))
    for version in range(2, 9):
        assert by_version[version].previous_version_id == by_version[version - 1].file_id
    newest = by_version[8].file_id
    assert redis_client.hget(keys.content_index("u1"), by_version[1].sha256) == newest


def test_different_contents_of_one_user_commit_concurrently(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    store = FileStore(redis_client, tmp_path)
    staged = [stage(store, f"doc {i}".encode()) for i in range(16)]
    results = commit_concurrently(store, staged, "reuse")
    assert not any(r.reused for r in results)
    assert len(store.list_for_user("u1")) == 16
    assert redis_client.hlen(keys.content_index("u1")) == 16


def test_updating_a_deleted_record_does_not_bring_it_back(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    store = FileStore(redis_client, tmp_path)
    record = commit(store, stage(store, b"doc"), None).record
    store.update(record.file_id, chunk_count=3, error=None)
    updated = store.get(record.file_id)
    assert updated is not None
    assert (updated.chunk_count, updated.error) == (3, None)
    redis_client.delete(keys.file_record(record.file_id))
    store.update(record.file_id, chunk_count=4)  # a job still running after the deletion
    assert not redis_client.exists(keys.file_record(record.file_id))
