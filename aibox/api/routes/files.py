"""Files: upload, metadata, processing status and regeneration."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

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
from aibox.api.errors import error_response
from aibox.api.schemas import (
    ChunkPublic,
    DeletionPublic,
    Envelope,
    FilePublic,
    JobSubmitted,
    ProcessingStatus,
    RegenerateRequest,
    TriplePublic,
    UploadBatch,
    UploadedFile,
    UploadProgressPublic,
    triple_public,
    upload_request_body,
)
from aibox.api.uploads import (
    MultipartReceiver,
    UploadLimits,
    commit_all,
    multipart_boundary,
    receive,
)
from aibox.errors import NotFoundError, QueueLimitError, UploadRefusedError
from aibox.services import job_registry
from aibox.settings import get_settings
from aibox.store.files import FileRecord
from aibox.store.status import settled_status
from aibox.store.uploads import upload_progress_store
from aibox.submit import submit_job

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/files", tags=["files"])

_ACCEPTED = "file accepted for processing"


@router.post(
    "",
    status_code=202,
    response_model=Envelope[UploadBatch | UploadedFile],
    responses={207: {"model": Envelope[UploadBatch], "description": "some files were refused"}},
    openapi_extra={"requestBody": upload_request_body(get_settings().max_files_per_upload)},
)
async def upload_files(
    request: Request, user: CurrentUser, files: FilesDep, settings: SettingsDep
) -> JSONResponse:
    """Store documents while they stream in and queue each one on ``file_processing``."""
    limits = UploadLimits(settings.max_upload_bytes, settings.max_files_per_upload)
    limit = settings.max_queued_jobs_per_user
    if limit and (queued := job_registry().queued_of_user(user.user_id)) >= limit:
        # Refused before a byte is read (each file is checked again as it is queued).
        exc = QueueLimitError.reached(queued, limit, settings.queue_limit_retry_after_s)
        response = error_response(exc.status, exc.code, str(exc), exc.data)
        response.headers.update(exc.headers)
        return _unread_rest(response)
    try:
        receiver = MultipartReceiver(
            multipart_boundary(request.headers, limits),
            files=files,
            progress=upload_progress_store(),
            user_id=user.user_id,
            limits=limits,
        )
        await receive(request, receiver)
    except UploadRefusedError as exc:
        return _unread_rest(error_response(exc.status, exc.code, str(exc)))
    except ClientDisconnect:
        logger.info("client of user %s left during an upload", user.user_id)
        return error_response(400, "bad_request", "the client disconnected")
    if not receiver.received:
        return error_response(422, "validation_error", "no file: send 'files' parts")
    results = await run_in_threadpool(
        commit_all, receiver.received, files, settings.duplicate_policy
    )
    batch = "files" in receiver.fields or len(results) > 1
    response = _upload_response(results, batch=batch, truncated=receiver.truncated)
    if any(r.error is not None and r.error.status == 429 for r in results):
        response.headers["Retry-After"] = str(settings.queue_limit_retry_after_s)
    return _unread_rest(response) if receiver.truncated else response


@router.get("/{upload_id}/upload", response_model=Envelope[UploadProgressPublic])
def get_upload_progress(upload_id: str, user: CurrentUser) -> Envelope[UploadProgressPublic]:
    """How far an upload got (kept for an hour), by the ``upload_id`` of the upload's answer
    (a stored file's ``file_id`` works too); only its uploader sees it."""
    progress = upload_progress_store().get(upload_id)
    if progress is None or progress.user_id != user.user_id:
        raise NotFoundError(f"no upload record {upload_id}")
    fields = progress.model_dump(exclude={"file_id", "stored_as"})
    public = {**fields, "upload_id": progress.file_id, "file_id": progress.stored_as}
    return Envelope(data=UploadProgressPublic.model_validate(public))


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
    status = statuses.get(record.file_id) or settled_status(record)
    return Envelope(data=ProcessingStatus.model_validate(status))


@router.post("/{file_id}/regenerate", status_code=202, response_model=Envelope[JobSubmitted])
def regenerate(record: OwnedFile, body: RegenerateRequest) -> Envelope[JobSubmitted]:
    """Run part of a file's processing again: ``vector``, ``graph`` or ``full``."""
    job_id = submit_job(record, body.type, force_rechunk=body.force_rechunk)
    data = JobSubmitted(file_id=record.file_id, job_id=job_id, type=body.type)
    return Envelope(message=f"{body.type} regeneration queued", data=data)


def _public(record: FileRecord) -> FilePublic:
    return FilePublic.model_validate(record.model_dump())


def _upload_response(results: list[UploadedFile], *, batch: bool, truncated: bool) -> JSONResponse:
    rejected = [r.error for r in results if r.error is not None]
    data: UploadBatch | UploadedFile = results[0]
    if batch:
        data = UploadBatch(
            files=results,
            accepted=len(results) - len(rejected),
            rejected=len(rejected),
            truncated=truncated,
        )
    content = data.model_dump(mode="json")
    if len(results) == 1 and rejected:
        return error_response(rejected[0].status, rejected[0].code, rejected[0].message, content)
    message = f"{len(results) - len(rejected)} of {len(results)} files accepted"
    if truncated:
        message += "; reading stopped at a file over the size limit, later files were not read"
    if not batch:
        message = "file already uploaded: reusing it" if results[0].reused else _ACCEPTED
    body = Envelope(success=len(rejected) < len(results), message=message, data=content)
    return JSONResponse(status_code=207 if rejected else 202, content=body.model_dump(mode="json"))


def _unread_rest(response: JSONResponse) -> JSONResponse:
    # The body was not read to its end: closing the connection is what stops the client
    # sending it (uvicorn would otherwise read and discard the rest to reuse the connection).
    response.headers["Connection"] = "close"
    return response
