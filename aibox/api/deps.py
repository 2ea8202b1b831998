"""Shared request dependencies as ``Annotated`` aliases.

FastAPI runs a plain ``def`` dependency in its thread pool, one hop per dependency per
request. Those that only hand out a cached object are ``async def`` (no hop), and the token
check and account lookup share one hop: the upload endpoint's dependencies cost one thread
hop, not five.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from aibox.auth import tokens
from aibox.auth.users import User
from aibox.connections import get_redis
from aibox.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from aibox.services import (
    chunk_store,
    file_store,
    graph_queries,
    job_registry,
    status_store,
)
from aibox.settings import Settings, get_settings
from aibox.store.chunks import ChunkStore
from aibox.store.files import FileRecord, FileStore
from aibox.store.graph_queries import GraphQueries
from aibox.store.registry import JobRegistry
from aibox.store.status import StatusStore

T = TypeVar("T")

_UNAUTHENTICATED = "not authenticated: send 'Authorization: Bearer <token>'"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def current_settings() -> Settings:
    """The settings (override this dependency, not ``get_settings``, in tests)."""
    return get_settings()


SettingsDep = Annotated[Settings, Depends(current_settings)]
BearerToken = Annotated[str | None, Depends(oauth2_scheme)]


def get_token_claims(token: BearerToken, settings: SettingsDep) -> tokens.Claims:
    """The verified claims of the request's bearer token; 401 without a valid one."""
    if not token:
        raise AuthenticationError(_UNAUTHENTICATED)
    return tokens.verify(token, settings, get_redis())


Claims = Annotated[tokens.Claims, Depends(get_token_claims)]


def get_current_user(token: BearerToken, settings: SettingsDep) -> User:
    """The account the request's token belongs to; 401 without a valid token or account."""
    if not token:
        raise AuthenticationError(_UNAUTHENTICATED)
    return tokens.account_of(token, settings, get_redis())


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_admin(user: CurrentUser) -> User:
    """The current user if an admin; 403 otherwise."""
    if not user.is_admin:
        raise PermissionDeniedError("this operation needs the admin role")
    return user


AdminUser = Annotated[User, Depends(require_admin)]


def _provided(service: Callable[[], T]) -> Callable[[], Awaitable[T]]:
    """``service`` (a cached getter) as an async dependency: no thread hop to hand it out."""

    async def provide() -> T:
        return service()

    return provide


FilesDep = Annotated[FileStore, Depends(_provided(file_store))]
StatusDep = Annotated[StatusStore, Depends(_provided(status_store))]
RegistryDep = Annotated[JobRegistry, Depends(_provided(job_registry))]
ChunksDep = Annotated[ChunkStore, Depends(_provided(chunk_store))]
GraphDep = Annotated[GraphQueries, Depends(_provided(graph_queries))]


def get_owned_file(file_id: str, user: CurrentUser, files: FilesDep) -> FileRecord:
    """The file named in the path if the caller owns it; 404 otherwise (no existence leak)."""
    record = files.get_owned(file_id, user.user_id)
    if record is None:
        raise NotFoundError(f"file {file_id} not found")
    return record


OwnedFile = Annotated[FileRecord, Depends(get_owned_file)]
