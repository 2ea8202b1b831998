"""Streaming multipart uploads: each file part is written to disk while it arrives.

``request.form()`` would spool the whole body before the endpoint runs; here python-multipart's
push parser is fed from ``request.stream()``, so a part over ``max_upload_bytes`` stops the
reading at once. Records and jobs are created only once the body has been read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio
from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartState, parse_options_header
from starlette.datastructures import Headers
from starlette.requests import Request

from aibox import deletion
from aibox.api.schemas import UploadedFile, UploadRejection
from aibox.errors import (
    FileTooLargeError,
    QueueLimitError,
    UnsupportedFileTypeError,
    UploadRefusedError,
)
from aibox.pipeline.parsers import file_type_for
from aibox.store.files import DuplicatePolicy, FileStore, sanitise_filename
from aibox.store.uploads import ProgressTracker, StagedUpload, UploadProgressStore
from aibox.submit import submit_job

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

#: Form fields that carry files: ``files`` (repeated) and ``file`` (older clients).
FILE_FIELDS = ("files", "file")
#: Room for each part's boundary and headers, and for the request's other fields.
PART_OVERHEAD = 16 * 1024
REQUEST_OVERHEAD = 64 * 1024
_RECORD_FIELDS = {"file_id", "file_type", "size", "sha256", "version", "previous_version_id"}


@dataclass(frozen=True)
class UploadLimits:
    """How much one request may carry."""

    max_bytes: int  # per file
    max_files: int

    @property
    def max_request_bytes(self) -> int:
        """The largest body that can hold ``max_files`` files of ``max_bytes``."""
        return self.max_files * (self.max_bytes + PART_OVERHEAD) + REQUEST_OVERHEAD


@dataclass
class ReceivedFile:
    """One file part of the request: its staged bytes, or why it was refused."""

    index: int
    filename: str
    content_type: str | None
    file_type: str | None = None
    upload_id: str | None = None  # names its progress record once bytes are being stored
    staged: StagedUpload | None = None
    tracker: ProgressTracker | None = None
    error: UploadRejection | None = None

    def reject(self, status: int, code: str, message: str) -> None:
        """Refuse this file and drop whatever of it was stored."""
        self.error = UploadRejection(status=status, code=code, message=message)
        self.drop(message)

    def drop(self, message: str) -> None:
        """Remove the staged bytes (if not committed yet) and mark the upload failed."""
        if self.staged is not None:
            self.staged.discard()
            self.staged = None
            if self.tracker is not None:
                self.tracker.failed(message)


def multipart_boundary(headers: Headers, limits: UploadLimits) -> bytes:
    """The body's multipart boundary; refuses other bodies and too large a Content-Length."""
    media_type, options = parse_options_header(headers.get("content-type"))
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise UploadRefusedError(
            422, "validation_error", "send the documents as multipart/form-data 'files' fields"
        )
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_request_bytes:
        raise UploadRefusedError(
            413,
            "request_too_large",
            f"the request declares {declared} bytes; at most {limits.max_request_bytes} are "
            f"accepted ({limits.max_files} files of up to {limits.max_bytes} bytes)",
        )
    return boundary


class MultipartReceiver:
    """Parser callbacks that stage each file part as it arrives (blocking I/O: run in a thread)."""

    def __init__(
        self,
        boundary: bytes,
        *,
        files: FileStore,
        progress: UploadProgressStore,
        user_id: str,
        limits: UploadLimits,
    ) -> None:
        self.files = files
        self.progress = progress
        self.user_id = user_id
        self.limits = limits
        self.received: list[ReceivedFile] = []
        self.fields: set[str] = set()
        self.truncated = False
        self._headers: dict[bytes, bytes] = {}
        self._name = self._value = b""
        self._current: ReceivedFile | None = None
        self._part_bytes = 0
        callbacks: MultipartCallbacks = {
            "on_part_begin": self._on_part_begin,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
        }
        try:
            self._parser = MultipartParser(boundary, callbacks)
        except FormParserError as exc:
            raise UploadRefusedError(422, "validation_error", f"bad boundary: {exc}") from exc

    def feed(self, chunk: bytes) -> None:
        """Parse the next piece of the body."""
        self._parser.write(chunk)

    def finish(self) -> None:
        """Check that the body ended where a multipart body must end."""
        if self._parser.state != MultipartState.END:
            raise UploadRefusedError(400, "bad_request", "the multipart body ended too early")

    def stop_at_oversized(self, exc: FileTooLargeError) -> None:
        """Refuse the part being read: it is over the size limit; later parts are not read."""
        self.truncated = True
        if self._current is not None and self._current.error is None:
            self._current.reject(exc.status, exc.code, str(exc))

    def drop_all(self, message: str) -> None:
        """Remove every staged file not committed yet."""
        for item in self.received:
            item.drop(message)

    def _on_part_begin(self) -> None:
        self._headers, self._current, self._part_bytes = {}, None, 0

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers[self._name.strip().lower()] = self._value.strip()
        self._name = self._value = b""

    def _on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        field = options.get(b"name", b"").decode("utf-8", "replace")
        if field not in FILE_FIELDS:
            return  # another form field: read past it, keep nothing
        if len(self.received) >= self.limits.max_files:
            raise UploadRefusedError(
                413, "too_many_files", f"at most {self.limits.max_files} files per request"
            )
        self.fields.add(field)
        filename = sanitise_filename(options.get(b"filename", b"").decode("utf-8", "replace"))
        content_type = self._headers.get(b"content-type", b"").decode("latin-1") or None
        item = self._current = ReceivedFile(len(self.received), filename, content_type)
        self.received.append(item)
        declared = self._headers.get(b"content-length", b"").strip()
        size = int(declared) if declared.isdigit() else None
        if size is not None and size > self.limits.max_bytes:
            raise FileTooLargeError.over(self.limits.max_bytes)
        try:
            item.file_type = file_type_for(filename, content_type)
        except UnsupportedFileTypeError as exc:
            item.reject(exc.status, exc.code, str(exc))
            return
        item.staged = self.files.stage(self.user_id, self.limits.max_bytes)
        item.upload_id = item.staged.file_id
        item.tracker = ProgressTracker(
            self.progress, item.upload_id, self.user_id, filename, total_bytes=size
        )

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._part_bytes += end - start
        item = self._current
        if self._part_bytes > self.limits.max_bytes:
            if item is None:
                raise UploadRefusedError(413, "request_too_large", "a form field is too large")
            raise FileTooLargeError.over(self.limits.max_bytes)
        if item is not None and item.staged is not None and item.tracker is not None:
            item.staged.write(data[start:end])
            item.tracker.received(end - start)

    def _on_part_end(self) -> None:
        item = self._current
        if item is not None and item.staged is not None and item.tracker is not None:
            item.staged.finish()
            item.tracker.arrived()


async def receive(request: Request, receiver: MultipartReceiver) -> None:
    """Feed the request body to ``receiver``, stopping at once at a file over the size limit."""
    limit = receiver.limits.max_request_bytes
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit:
                raise UploadRefusedError(413, "request_too_large", f"request over {limit} bytes")
            if chunk:
                await anyio.to_thread.run_sync(receiver.feed, chunk)
        receiver.finish()
    except FileTooLargeError as exc:
        await anyio.to_thread.run_sync(receiver.stop_at_oversized, exc)
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(receiver.drop_all, "the upload was not completed")
        if isinstance(exc, FormParserError):
            raise UploadRefusedError(400, "bad_request", f"bad multipart body: {exc}") from exc
        raise


def commit_all(
    received: list[ReceivedFile], files: FileStore, duplicates: DuplicatePolicy
) -> list[UploadedFile]:
    """Record the files that arrived whole and queue their jobs; report refused ones as such.

    Files are committed in request order, so a file with the same content as an earlier one
    of the same request meets the duplicate policy as it would in a later request: reused
    (the earlier file's record) or stored as its next version."""
    try:
        return [_commit(item, files, duplicates) for item in received]
    finally:
        for item in received:
            item.drop("the upload was not completed")


def _commit(item: ReceivedFile, files: FileStore, duplicates: DuplicatePolicy) -> UploadedFile:
    staged, tracker = item.staged, item.tracker
    if item.error is not None or staged is None or tracker is None or item.file_type is None:
        return _rejected(item)
    job_id: str | None = str(uuid.uuid4())
    stored = files.commit(
        staged,
        filename=item.filename,
        file_type=item.file_type,
        content_type=item.content_type,
        duplicates=duplicates,
        job_id=job_id,
    )
    item.staged = None
    record = stored.record
    if stored.reused:
        tracker.completed(
            f"same content as file {record.file_id}: nothing stored or queued",
            stored_as=record.file_id,
        )
        status, job_id = record.status, record.job_id
    else:
        try:
            job_id = submit_job(record, "full", force_rechunk=True, job_id=job_id)
        except QueueLimitError as exc:
            # The user reached the limit of queued jobs meanwhile: nothing of the file is kept.
            deletion.delete_file(record)
            tracker.failed(str(exc))
            item.error = UploadRejection(status=exc.status, code=exc.code, message=str(exc))
            return _rejected(item)
        tracker.completed(
            f"stored and queued for processing as job {job_id}", stored_as=record.file_id
        )
        status = "queued"
    return UploadedFile(
        index=item.index,
        filename=item.filename,
        status=status,
        upload_id=item.upload_id,
        job_id=job_id,
        reused=stored.reused,
        duplicate_of=record.file_id if stored.reused else None,
        **record.model_dump(include=_RECORD_FIELDS),
    )


def _rejected(item: ReceivedFile) -> UploadedFile:
    """A refused file's answer. No file_id: nothing was stored; its upload record (when
    bytes were being stored) says how far it got."""
    return UploadedFile(
        index=item.index,
        filename=item.filename,
        status="rejected",
        upload_id=item.upload_id,
        error=item.error,
    )
