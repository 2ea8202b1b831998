"""Uploaded files: their bytes on disk and their metadata records in Redis.

Bytes live at ``<storage>/<user_id>/<file_id>``; the client's file name is kept only in the
record, never used as a path. The record is the truth a worker trusts, not task arguments.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import cast

import redis
from pydantic import BaseModel

from aibox import keys
from aibox.connections import HashMapping
from aibox.errors import FileNotFoundInStoreError, OwnershipError, PermanentError

_SAFE_NAME = re.compile(r"[^\w.\- ]+", re.UNICODE)


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


class FileTooLargeError(PermanentError):
    """Raised when an upload exceeds ``max_upload_bytes``."""


def sanitise_filename(name: str) -> str:
    """A display-safe file name: no directories, no control characters, at most 255 chars."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _SAFE_NAME.sub("_", base).strip(" .")
    return base[:255] or "upload"


def new_file_id() -> str:
    """A fresh file id."""
    return uuid.uuid4().hex


class FileStore:
    """File bytes under one storage directory and file records in Redis."""

    def __init__(self, client: redis.Redis, storage_dir: Path) -> None:
        self.client = client
        self.storage_dir = storage_dir

    def save_upload(
        self,
        chunks: Iterable[bytes],
        *,
        user_id: str,
        filename: str,
        file_type: str,
        content_type: str | None,
        max_bytes: int,
    ) -> FileRecord:
        """Stream an upload to disk (refusing more than ``max_bytes``) and create its record."""
        file_id = new_file_id()
        relative = Path(user_id) / file_id
        target = self.storage_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        partial = target.with_suffix(".part")
        try:
            with open(partial, "wb") as out:
                for piece in chunks:
                    size += len(piece)
                    if size > max_bytes:
                        raise FileTooLargeError(f"file is larger than the {max_bytes}-byte limit")
                    digest.update(piece)
                    out.write(piece)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        record = FileRecord(
            file_id=file_id,
            user_id=user_id,
            filename=sanitise_filename(filename),
            file_type=file_type,
            content_type=content_type,
            size=size,
            sha256=digest.hexdigest(),
            path=str(relative),
            created_at=time.time(),
        )
        self.put(record)
        return record

    def put(self, record: FileRecord) -> None:
        """Create or replace a record and index it under its user."""
        pipe = self.client.pipeline()
        pipe.hset(keys.file_record(record.file_id), mapping=_to_hash(record))
        pipe.zadd(keys.user_files(record.user_id), {record.file_id: record.created_at})
        pipe.execute()

    def update(self, file_id: str, **fields: object) -> None:
        """Set some fields of an existing record atomically (no read-modify-write)."""
        values: HashMapping = {k: ("" if v is None else str(v)) for k, v in fields.items()}
        self.client.hset(keys.file_record(file_id), mapping=values)

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
        if file_path is not None and Path(file_path).resolve() != self.path_of(record):
            raise OwnershipError(f"path {file_path!r} is not the stored path of file {file_id}")
        if not self.path_of(record).is_file():
            raise FileNotFoundInStoreError(f"the stored bytes of file {file_id} are missing")
        return record

    def path_of(self, record: FileRecord) -> Path:
        """Absolute path of a record's bytes, guaranteed inside the storage directory."""
        path = (self.storage_dir / record.path).resolve()
        if not path.is_relative_to(self.storage_dir.resolve()):
            raise OwnershipError(f"stored path of file {record.file_id} leaves the storage dir")
        return path

    def list_for_user(self, user_id: str, *, offset: int = 0, limit: int = 50) -> list[FileRecord]:
        """A user's files, newest first."""
        key = keys.user_files(user_id)
        ids = cast(list[str], self.client.zrevrange(key, offset, offset + limit - 1))
        pipe = self.client.pipeline()
        for file_id in ids:
            pipe.hgetall(keys.file_record(file_id))
        return [_from_hash(data) for data in pipe.execute() if data]


def _to_hash(record: FileRecord) -> HashMapping:
    return {k: "" if v is None else str(v) for k, v in record.model_dump().items()}


def _from_hash(data: dict[str, str]) -> FileRecord:
    return FileRecord.model_validate({k: (v if v != "" else None) for k, v in data.items()})
