"""Files: upload, metadata, processing status and regeneration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, BinaryIO

from fastapi import APIRouter, File, Query, UploadFile

from aibox.api.deps import CurrentUser, FilesDep, SettingsDep, StatusDep
from aibox.api.schemas import (
    Envelope,
    FilePublic,
    FileSubmitted,
    JobSubmitted,
    ProcessingStatus,
    RegenerateRequest,
)
from aibox.errors import NotFoundError
from aibox.files import FileRecord, FileStore
from aibox.pipeline.parsers import file_type_for
from aibox.submit import submit_job

router = APIRouter(prefix="/files", tags=["files"])

_READ_SIZE = 1024 * 1024


@router.post("", status_code=202, response_model=Envelope[FileSubmitted])
def upload_file(
    file: Annotated[UploadFile, File(description="the document to process")],
    user: CurrentUser,
    files: FilesDep,
    settings: SettingsDep,
) -> Envelope[FileSubmitted]:
    """Store an uploaded document and queue it for processing on ``file_processing``."""
    filename = file.filename or "upload"
    file_type = file_type_for(filename, file.content_type)
    record = files.save_upload(
        _read_all(file.file),
        user_id=user,
        filename=filename,
        file_type=file_type,
        content_type=file.content_type,
        max_bytes=settings.max_upload_bytes,
    )
    job_id = submit_job(record, "full", force_rechunk=True)
    data = FileSubmitted(
        file_id=record.file_id,
        job_id=job_id,
        filename=record.filename,
        file_type=record.file_type,
        size=record.size,
    )
    return Envelope(message="file accepted for processing", data=data)


@router.get("", response_model=Envelope[list[FilePublic]])
def list_files(
    user: CurrentUser,
    files: FilesDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Envelope[list[FilePublic]]:
    """The caller's files, newest first."""
    records = files.list_for_user(user, offset=offset, limit=limit)
    return Envelope(data=[_public(r) for r in records])


@router.get("/{file_id}", response_model=Envelope[FilePublic])
def get_file(file_id: str, user: CurrentUser, files: FilesDep) -> Envelope[FilePublic]:
    """One of the caller's files."""
    return Envelope(data=_public(_owned(files, file_id, user)))


@router.get("/{file_id}/status", response_model=Envelope[ProcessingStatus])
def get_status(
    file_id: str, user: CurrentUser, files: FilesDep, statuses: StatusDep
) -> Envelope[ProcessingStatus]:
    """A file's processing status: overall and per stage (old system's field names)."""
    record = _owned(files, file_id, user)
    status = statuses.get(file_id)
    if status is None:
        # The status record expired (its TTL is hours); the file record still knows the end.
        done = record.status == "completed"
        stage = {"status": record.status, "progress": 100 if done else 0}
        status = {
            "file_id": file_id,
            "status": record.status,
            "progress": 100 if done else 0,
            "message": record.error,
            "job_id": record.job_id,
            **dict.fromkeys(("chunking", "vectorization", "storage", "kg_extraction"), stage),
        }
    return Envelope(data=ProcessingStatus.model_validate(status))


@router.post("/{file_id}/regenerate", status_code=202, response_model=Envelope[JobSubmitted])
def regenerate(
    file_id: str, body: RegenerateRequest, user: CurrentUser, files: FilesDep
) -> Envelope[JobSubmitted]:
    """Run part of a file's processing again: ``vector``, ``graph`` or ``full``."""
    record = _owned(files, file_id, user)
    job_id = submit_job(record, body.type, force_rechunk=body.force_rechunk)
    data = JobSubmitted(file_id=file_id, job_id=job_id, type=body.type)
    return Envelope(message=f"{body.type} regeneration queued", data=data)


def _owned(files: FileStore, file_id: str, user: str) -> FileRecord:
    record = files.get_owned(file_id, user)
    if record is None:
        raise NotFoundError(f"file {file_id} not found")
    return record


def _public(record: FileRecord) -> FilePublic:
    return FilePublic.model_validate(record.model_dump())


def _read_all(stream: BinaryIO) -> Iterator[bytes]:
    while piece := stream.read(_READ_SIZE):
        yield piece
