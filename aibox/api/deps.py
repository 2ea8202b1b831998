"""Shared request dependencies as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from aibox.errors import NotFoundError
from aibox.files import FileRecord, FileStore
from aibox.pipeline.chunkstore import ChunkStore
from aibox.pipeline.graph.queries import GraphQueries
from aibox.registry import JobRegistry
from aibox.services import chunk_store, file_store, graph_queries, job_registry, status_store
from aibox.settings import Settings, get_settings
from aibox.status import StatusStore


def get_current_user(settings: Annotated[Settings, Depends(get_settings)]) -> str:
    """The caller's user id. Until authentication lands, the one local user."""
    return settings.local_user_id


SettingsDep = Annotated[Settings, Depends(get_settings)]
CurrentUser = Annotated[str, Depends(get_current_user)]
FilesDep = Annotated[FileStore, Depends(file_store)]
StatusDep = Annotated[StatusStore, Depends(status_store)]
RegistryDep = Annotated[JobRegistry, Depends(job_registry)]
ChunksDep = Annotated[ChunkStore, Depends(chunk_store)]
GraphDep = Annotated[GraphQueries, Depends(graph_queries)]


def get_owned_file(file_id: str, user: CurrentUser, files: FilesDep) -> FileRecord:
    """The file named in the path if the caller owns it; 404 otherwise (no existence leak)."""
    record = files.get_owned(file_id, user)
    if record is None:
        raise NotFoundError(f"file {file_id} not found")
    return record


OwnedFile = Annotated[FileRecord, Depends(get_owned_file)]
