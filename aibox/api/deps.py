"""Shared request dependencies as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from aibox.auth import tokens
from aibox.auth.users import User
from aibox.connections import get_redis
from aibox.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from aibox.files import FileRecord, FileStore
from aibox.pipeline.chunkstore import ChunkStore
from aibox.pipeline.graph.queries import GraphQueries
from aibox.registry import JobRegistry
from aibox.services import (
    chunk_store,
    file_store,
    graph_queries,
    job_registry,
    status_store,
    user_store,
)
from aibox.settings import Settings, get_settings
from aibox.status import StatusStore

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

SettingsDep = Annotated[Settings, Depends(get_settings)]
BearerToken = Annotated[str | None, Depends(oauth2_scheme)]


def get_token_claims(token: BearerToken, settings: SettingsDep) -> tokens.Claims:
    """The verified claims of the request's bearer token; 401 without a valid one."""
    if not token:
        raise AuthenticationError("not authenticated: send 'Authorization: Bearer <token>'")
    return tokens.verify(token, settings, get_redis())


Claims = Annotated[tokens.Claims, Depends(get_token_claims)]


def get_current_user(claims: Claims) -> User:
    """The account the token belongs to; 401 if it no longer exists."""
    user = user_store().get(claims.user_id)
    if user is None:
        raise AuthenticationError("the token's user no longer exists")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_admin(user: CurrentUser) -> User:
    """The current user if an admin; 403 otherwise."""
    if not user.is_admin:
        raise PermissionDeniedError("this operation needs the admin role")
    return user


AdminUser = Annotated[User, Depends(require_admin)]
FilesDep = Annotated[FileStore, Depends(file_store)]
StatusDep = Annotated[StatusStore, Depends(status_store)]
RegistryDep = Annotated[JobRegistry, Depends(job_registry)]
ChunksDep = Annotated[ChunkStore, Depends(chunk_store)]
GraphDep = Annotated[GraphQueries, Depends(graph_queries)]


def get_owned_file(file_id: str, user: CurrentUser, files: FilesDep) -> FileRecord:
    """The file named in the path if the caller owns it; 404 otherwise (no existence leak)."""
    record = files.get_owned(file_id, user.user_id)
    if record is None:
        raise NotFoundError(f"file {file_id} not found")
    return record


OwnedFile = Annotated[FileRecord, Depends(get_owned_file)]
