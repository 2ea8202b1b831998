"""Files: upload, metadata, processing status and regeneration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, BinaryIO

from fastapi import APIRouter, File, Query, UploadFile

from aibox import deletion
from aibox.api.deps import (
    ChunksDep,
    CurrentUser,
    FilesDep,
    GraphDep,
    OwnedFile,
    SettingsDep,
    StatusDep,
)
from aibox.api.schemas import (
    ChunkPublic,
    DeletionPublic,
    Envelope,
    FilePublic,
    FileSubmitted,
    JobSubmitted,
    ProcessingStatus,
    RegenerateRequest,
    TriplePublic,
    triple_public,
)
from aibox.files import FileRecord
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
        user_id=user.user_id,
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
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Envelope[list[FilePublic]]:
    """The caller's files, newest first."""
    records = files.list_for_user(user.user_id, offset=offset, limit=limit)
    return Envelope(data=[_public(r) for r in records])


@router.get("/{file_id}", response_model=Envelope[FilePublic])
def get_file(record: OwnedFile) -> Envelope[FilePublic]:
    """One of the caller's files."""
    return Envelope(data=_public(record))


@router.delete("/{file_id}", response_model=Envelope[DeletionPublic])
def delete_file(record: OwnedFile) -> Envelope[DeletionPublic]:
    """Delete a file: revoke its jobs, remove its bytes, chunks, vectors, status and graph part."""
    done = deletion.delete_file(record)
    data = DeletionPublic(
        file_id=done.file_id,
        revoked_jobs=done.revoked_jobs,
        chunks=done.chunks,
        vectors=done.vectors,
    )
    return Envelope(message="file deleted", data=data)


@router.get("/{file_id}/chunks", response_model=Envelope[list[ChunkPublic]])
def get_chunks(
    record: OwnedFile,
    chunks: ChunksDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Envelope[list[ChunkPublic]]:
    """A window of the file's chunks, in document order."""
    window = chunks.window(record.file_id, offset, limit)
    return Envelope(data=[ChunkPublic.model_validate(c, from_attributes=True) for c in window])


@router.get("/{file_id}/graph", response_model=Envelope[list[TriplePublic]])
def get_file_graph(
    record: OwnedFile,
    user: CurrentUser,
    graph: GraphDep,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> Envelope[list[TriplePublic]]:
    """The typed relations (triples) this file contributed to the caller's graph."""
    triples = graph.file_triples(user.user_id, record.file_id, limit=limit)
    return Envelope(data=[triple_public(t) for t in triples])


@router.get("/{file_id}/status", response_model=Envelope[ProcessingStatus])
def get_status(record: OwnedFile, statuses: StatusDep) -> Envelope[ProcessingStatus]:
    """A file's processing status: overall and per stage (old system's field names)."""
    file_id = record.file_id
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
def regenerate(record: OwnedFile, body: RegenerateRequest) -> Envelope[JobSubmitted]:
    """Run part of a file's processing again: ``vector``, ``graph`` or ``full``."""
    job_id = submit_job(record, body.type, force_rechunk=body.force_rechunk)
    data = JobSubmitted(file_id=record.file_id, job_id=job_id, type=body.type)
    return Envelope(message=f"{body.type} regeneration queued", data=data)


def _public(record: FileRecord) -> FilePublic:
    return FilePublic.model_validate(record.model_dump())


def _read_all(stream: BinaryIO) -> Iterator[bytes]:
    while piece := stream.read(_READ_SIZE):
        yield piece
