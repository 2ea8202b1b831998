"""Process-wide service objects, built on first use from the settings (never at import)."""

from __future__ import annotations

from functools import lru_cache

from aibox.connections import get_redis
from aibox.files import FileStore
from aibox.registry import JobRegistry
from aibox.settings import get_settings
from aibox.status import StatusStore


@lru_cache(maxsize=1)
def file_store() -> FileStore:
    """The file store on the configured storage directory and Redis."""
    return FileStore(get_redis(), get_settings().storage_path)


@lru_cache(maxsize=1)
def status_store() -> StatusStore:
    """The processing status store."""
    return StatusStore(get_redis(), get_settings().status_ttl_s)


@lru_cache(maxsize=1)
def job_registry() -> JobRegistry:
    """The job registry."""
    return JobRegistry(get_redis(), get_settings().job_retention_s)
