"""Uploaded files: their bytes on disk and their metadata records in Redis.

Bytes live at ``<storage>/<user_id>/<file_id>``; the client's file name is kept only in the
record, never used as a path. The record is the truth a worker trusts, not task arguments.
Each user's files are also indexed by content (sha256 -> newest file id) to detect duplicates.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import redis
from pydantic import BaseModel
from redis.client import Pipeline

from aibox import keys
from aibox.connections import HashMapping
from aibox.errors import ConfigurationError, FileNotFoundInStoreError, OwnershipError
from aibox.store.content import ContentStore, LocalContentStore
from aibox.store.uploads import StagedUpload

_SAFE_NAME = re.compile(r"[^\w.\- ]+", re.UNICODE)
_MAX_NAME = 255
_MAX_EXTENSION = 16
T = TypeVar("T")

_UPDATE_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HSET', KEYS[1], unpack(ARGV)) end
return 0
"""

# Create a record unless the user's content index moved: KEYS: the content index, the new
# record, the user's file set; ARGV: sha256, the index entry the caller saw ('' for none),
# file id, created_at, '1' to check and update the index, then the record's field/value
# pairs. Returns {1} when written, {0, entry} when the index holds another entry than seen.
_COMMIT = """
if ARGV[5] == '1' then
    local entry = redis.call('HGET', KEYS[1], ARGV[1]) or ''
    if entry ~= ARGV[2] then return {0, entry} end
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
redis.call('HSET', KEYS[2], unpack(ARGV, 6))
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3])
return {1}
"""

#: What a second upload of the same bytes by the same user does.
DuplicatePolicy = Literal["reuse", "new_version"]


class FileRecord(BaseModel):
    """What aibox knows about one uploaded file."""

    file_id: str
    user_id: str
    filename: str
    file_type: str
    content_type: str | None = None
    size: int
    sha256: str
    path: str  # relative to the storage directory
    created_at: float
    status: str = "queued"
    job_id: str | None = None
    chunk_count: int = 0
    embedder: str | None = None
    vector_high_water: int = 0  # chunk ids 0..n-1 that may be in the vector set
    error: str | None = None
    version: int = 1
    previous_version_id: str | None = None


def sanitise_filename(name: str) -> str:
    """A display-safe file name: no directories, no control characters, at most 255 chars."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _SAFE_NAME.sub("_", base).strip(" .")
    if len(base) > _MAX_NAME:
        # Keep a short extension: it decides the file type.
        stem, dot, ext = base.rpartition(".")
        keep = f"{dot}{ext}" if stem and len(ext) <= _MAX_EXTENSION else ""
        base = base[: _MAX_NAME - len(keep)] + keep
    return base or "upload"


@dataclass(frozen=True)
class Stored:
    """The outcome of committing an upload: its record, and whether an existing one was reused."""

    record: FileRecord
    reused: bool = False


class FileStore:
    """File bytes in a content store (a directory or a bucket) and file records in Redis."""

    def __init__(self, client: redis.Redis, content: ContentStore | Path) -> None:
        self.client = client
        self.content = LocalContentStore(content) if isinstance(content, Path) else content
        # A job still running when its file is deleted must not re-create a partial record.
        self._update_if_exists = client.register_script(_UPDATE_IF_EXISTS)
        self._commit = client.register_script(_COMMIT)

    def stage(self, user_id: str, max_bytes: int, file_id: str | None = None) -> StagedUpload:
        """Start receiving an upload's bytes (for a new file id, unless one is given)."""
        return StagedUpload(self.content, user_id, max_bytes, file_id)

    def save_upload(
        self,
        chunks: Iterable[bytes],
        *,
        user_id: str,
        filename: str,
        file_type: str,
        content_type: str | None,
        max_bytes: int,
        file_id: str | None = None,
    ) -> FileRecord:
        """Stream an upload to disk (refusing more than ``max_bytes``) and create its record
        (under ``file_id`` when given: a file moved from the old system keeps its id)."""
        staged = self.stage(user_id, max_bytes, file_id)
        try:
            for piece in chunks:
                staged.write(piece)
            stored = self.commit(
                staged, filename=filename, file_type=file_type, content_type=content_type
            )
        except BaseException:
            staged.discard()
            raise
        return stored.record

    def commit(
        self,
        staged: StagedUpload,
        *,
        filename: str,
        file_type: str,
        content_type: str | None,
        duplicates: DuplicatePolicy | None = None,
        job_id: str | None = None,
    ) -> Stored:
        """Record received bytes; ``reuse`` may return the existing file with the same content.

        ``job_id`` names the job the caller queues next for a new record, which is then
        created with it (``submit_job(..., job_id=...)`` need not write the record again).

        One compare-and-set script per attempt: the record is written only if the user's
        content index still holds, for this sha256, the entry this call saw. Concurrent
        uploads of *different* content never conflict; an upload of the same content as a
        concurrent one sees the winner's entry and is resolved against it (reused or made its
        next version).
        """
        staged.promote()
        index = keys.content_index(staged.user_id)
        seen, previous = "", None
        while True:
            record = _record_of(staged, filename, file_type, content_type, previous, job_id)
            args: list[str | float] = [
                staged.sha256,
                seen,
                record.file_id,
                repr(record.created_at),
                "1" if duplicates else "0",
            ]
            args += [x for pair in _to_hash(record).items() for x in pair]
            reply = cast(
                list[Any],
                self._commit(
                    keys=[index, keys.file_record(record.file_id), keys.user_files(record.user_id)],
                    args=args,
                ),
            )
            if reply[0] == 1:
                return Stored(record)
            seen = str(reply[1])
            # An entry whose file is gone (deleted before forget_hash existed) is no duplicate.
            previous = self.get(seen) if seen else None
            if previous is not None and duplicates == "reuse":
                staged.discard()
                return Stored(previous, reused=True)

    def forget_hash(self, record: FileRecord) -> None:
        """Drop a deleted file from its user's content index; its previous version takes over."""
        index = keys.content_index(record.user_id)
        previous = record.previous_version_id
        if previous is not None and self.get(previous) is None:
            previous = None

        def attempt(pipe: Pipeline) -> None:
            if pipe.hget(index, record.sha256) != record.file_id:
                return
            pipe.multi()
            if previous is None:
                pipe.hdel(index, record.sha256)
            else:
                pipe.hset(index, record.sha256, previous)
            pipe.execute()

        self._atomically(index, attempt)

    def put(self, record: FileRecord) -> None:
        """Create or replace a record and index it under its user."""
        pipe = self.client.pipeline()
        self._put(pipe, record)
        pipe.execute()

    def update(self, file_id: str, **fields: object) -> None:
        """Set some fields of an existing record atomically; a deleted record stays deleted."""
        values = [x for k, v in fields.items() for x in (k, "" if v is None else str(v))]
        self._update_if_exists(keys=[keys.file_record(file_id)], args=values)

    def get(self, file_id: str) -> FileRecord | None:
        """The record of ``file_id``, or None."""
        data = cast(dict[str, str], self.client.hgetall(keys.file_record(file_id)))
        return _from_hash(data) if data else None

    def get_owned(self, file_id: str, user_id: str) -> FileRecord | None:
        """The record of ``file_id`` if ``user_id`` owns it, else None (no existence leak)."""
        record = self.get(file_id)
        return record if record is not None and record.user_id == user_id else None

    def load_for_job(
        self, file_id: str, *, user_id: str | None = None, file_path: str | None = None
    ) -> FileRecord:
        """The record a job works on, refusing a user or path that contradicts it."""
        record = self.get(file_id)
        if record is None:
            raise FileNotFoundInStoreError(f"file {file_id} does not exist (deleted?)")
        if user_id is not None and user_id != record.user_id:
            raise OwnershipError(f"file {file_id} does not belong to user {user_id}")
        if file_path is not None and not self._is_location(record, file_path):
            raise OwnershipError(f"path {file_path!r} is not the stored path of file {file_id}")
        if not self.content.exists(record.path):
            raise FileNotFoundInStoreError(
                f"the stored bytes of file {file_id} are missing "
                f"({self.content.location(record.path)})"
            )
        return record

    def _is_location(self, record: FileRecord, file_path: str) -> bool:
        where = self.location(record)
        if isinstance(self.content, LocalContentStore):
            return Path(file_path).resolve() == Path(where)
        return file_path == where

    @contextmanager
    def local_file(self, record: FileRecord) -> Iterator[Path]:
        """A readable local file with the record's bytes while the block runs (a temporary
        copy when they are in a bucket); FileNotFoundInStoreError if they are gone."""
        try:
            with self.content.local_file(record.path) as path:
                yield path
        except FileNotFoundInStoreError as exc:
            raise FileNotFoundInStoreError(
                f"the stored bytes of file {record.file_id} are missing: {exc}"
            ) from exc

    def location(self, record: FileRecord) -> str:
        """Where the record's bytes are: a path, or an ``s3://`` URL (the old ``file_path``)."""
        return self.content.location(record.path)

    def delete_bytes(self, record: FileRecord) -> None:
        """Remove the record's bytes from the content store."""
        self.content.delete(record.path)

    def path_of(self, record: FileRecord) -> Path:
        """Absolute path of a record's bytes in a local content store (inside its root)."""
        if not isinstance(self.content, LocalContentStore):
            raise ConfigurationError("file bytes are in an object store: use local_file()")
        return self.content.path(record.path)

    def list_for_user(self, user_id: str, *, offset: int = 0, limit: int = 50) -> list[FileRecord]:
        """A user's files, newest first."""
        key = keys.user_files(user_id)
        ids = cast(list[str], self.client.zrevrange(key, offset, offset + limit - 1))
        pipe = self.client.pipeline()
        for file_id in ids:
            pipe.hgetall(keys.file_record(file_id))
        return [_from_hash(data) for data in pipe.execute() if data]

    def _atomically(self, key: str, attempt: Callable[[Pipeline], T]) -> T:
        """Run ``attempt`` with ``key`` watched, again whenever another client changed it."""
        with self.client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]
                    return attempt(pipe)
                except redis.WatchError:
                    continue

    @staticmethod
    def _put(pipe: Pipeline, record: FileRecord) -> None:
        pipe.hset(keys.file_record(record.file_id), mapping=_to_hash(record))
        pipe.zadd(keys.user_files(record.user_id), {record.file_id: record.created_at})


def _record_of(
    staged: StagedUpload,
    filename: str,
    file_type: str,
    content_type: str | None,
    previous: FileRecord | None,
    job_id: str | None,
) -> FileRecord:
    return FileRecord(
        file_id=staged.file_id,
        user_id=staged.user_id,
        filename=sanitise_filename(filename),
        file_type=file_type,
        content_type=content_type,
        size=staged.size,
        sha256=staged.sha256,
        path=str(staged.relative),
        created_at=time.time(),
        version=previous.version + 1 if previous else 1,
        previous_version_id=previous.file_id if previous else None,
        job_id=job_id,
    )


def _to_hash(record: FileRecord) -> HashMapping:
    return {k: "" if v is None else str(v) for k, v in record.model_dump().items()}


def _from_hash(data: dict[str, str]) -> FileRecord:
    return FileRecord.model_validate({k: (v if v != "" else None) for k, v in data.items()})
