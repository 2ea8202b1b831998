"""Shared request dependencies as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from aibox.files import FileStore
from aibox.registry import JobRegistry
from aibox.services import file_store, job_registry, status_store
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
