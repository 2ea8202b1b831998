"""An upload while it arrives: its bytes streaming into the content store, and its
``upload:progress`` record.

The record (JSON, TTL ``upload_progress_ttl_s``) carries the owner's ``user_id`` because the
file record only exists once the upload is complete; the API checks ownership against it.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Literal

import redis
from pydantic import BaseModel

from aibox import keys
from aibox.connections import get_redis
from aibox.errors import FileTooLargeError
from aibox.settings import get_settings
from aibox.store.content import ContentStore

#: A progress record is rewritten after this many bytes or seconds, not on every chunk.
_SAVE_EVERY_BYTES = 1024 * 1024
_SAVE_EVERY_S = 0.5


class StagedUpload:
    """An upload streaming into the content store under ``<user>/<file_id>``, hashed and
    size-checked as it arrives."""

    def __init__(
        self, content: ContentStore, user_id: str, max_bytes: int, file_id: str | None = None
    ) -> None:
        self.file_id = file_id or uuid.uuid4().hex
        self.user_id = user_id
        self.relative = Path(user_id) / self.file_id
        self.max_bytes = max_bytes
        self.size = 0
        self._digest = hashlib.sha256()
        self._writer = content.writer(str(self.relative))

    def write(self, data: bytes) -> None:
        """Append ``data``, refusing to go past ``max_bytes``."""
        if self.size + len(data) > self.max_bytes:
            raise FileTooLargeError.over(self.max_bytes)
        self._writer.write(data)
        self.size += len(data)
        self._digest.update(data)

    def finish(self) -> None:
        """Every byte has arrived."""
        self._writer.finish()

    @property
    def sha256(self) -> str:
        """Hex sha256 of the bytes written so far."""
        return self._digest.hexdigest()

    def promote(self) -> None:
        """Make the bytes the stored content of the file (idempotent)."""
        self._writer.promote()

    def discard(self) -> None:
        """Remove the bytes, wherever they are now."""
        self._writer.discard()


class UploadProgress(BaseModel):
    """The ``upload:progress:{file_id}`` record. ``file_id`` names the upload (the id its
    bytes were staged under); ``stored_as`` is the file it became, once it is stored: the
    same id, or an existing file's when its content was already there (``reuse``)."""

    file_id: str
    stored_as: str | None = None
    user_id: str
    filename: str
    status: Literal["uploading", "completed", "failed"] = "uploading"
    bytes_received: int = 0
    total_bytes: int | None = None  # from the part's Content-Length, when the client sent one
    progress: int | None = None  # 0–100 when total_bytes is known, else None
    message: str | None = None
    updated_at: float = 0.0


class UploadProgressStore:
    """Reads and writes upload progress records."""

    def __init__(self, client: redis.Redis, ttl_s: int) -> None:
        self.client = client
        self.ttl_s = ttl_s

    def put(self, record: UploadProgress) -> None:
        """Write a record, restarting its TTL."""
        record.updated_at = time.time()
        self.client.set(
            keys.upload_progress(record.file_id), record.model_dump_json(), ex=self.ttl_s
        )

    def get(self, file_id: str) -> UploadProgress | None:
        """The record of ``file_id``, or None."""
        raw = self.client.get(keys.upload_progress(file_id))
        return UploadProgress.model_validate_json(raw) if isinstance(raw, str | bytes) else None


@lru_cache(maxsize=1)
def upload_progress_store() -> UploadProgressStore:
    """The process's upload progress store."""
    return UploadProgressStore(get_redis(), get_settings().upload_progress_ttl_s)


class ProgressTracker:
    """Keeps one file's progress record current while its bytes stream in."""

    def __init__(
        self,
        store: UploadProgressStore,
        file_id: str,
        user_id: str,
        filename: str,
        *,
        total_bytes: int | None,
    ) -> None:
        self.store = store
        self.record = UploadProgress(
            file_id=file_id, user_id=user_id, filename=filename, total_bytes=total_bytes
        )
        # Nothing is written until the upload has lasted long enough to be watched: a file
        # that arrives within the first _SAVE_EVERY_BYTES or _SAVE_EVERY_S gets one write,
        # when it is stored or refused.
        self._written = False
        self._saved_bytes = 0
        self._saved_at = time.monotonic()

    def received(self, n: int) -> None:
        """Count ``n`` more bytes; rewrite the record now and then."""
        self.record.bytes_received += n
        due = self.record.bytes_received - self._saved_bytes >= _SAVE_EVERY_BYTES
        if due or time.monotonic() - self._saved_at >= _SAVE_EVERY_S:
            self._save("uploading", "receiving")

    def arrived(self) -> None:
        """Every byte of the file has arrived; the rest of the request may still be streaming."""
        self.record.total_bytes = self.record.bytes_received
        if self._written:
            self._save("uploading", "received, waiting for the end of the request")

    def completed(self, message: str, *, stored_as: str) -> None:
        """The upload is stored as file ``stored_as`` (its own id, or an existing file's)."""
        self.record.total_bytes = self.record.bytes_received
        self.record.stored_as = stored_as
        self._save("completed", message)

    def failed(self, message: str) -> None:
        """The upload was refused or interrupted; nothing of it is kept."""
        self._save("failed", message)

    def _save(self, status: Literal["uploading", "completed", "failed"], message: str) -> None:
        record = self.record
        record.status, record.message = status, message
        if record.total_bytes is not None:
            done = record.bytes_received * 100 // record.total_bytes if record.total_bytes else 100
            record.progress = min(100, done)
        self.store.put(record)
        self._written = True
        self._saved_bytes, self._saved_at = record.bytes_received, time.monotonic()
