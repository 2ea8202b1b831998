"""Where uploaded bytes live: a local directory (the default) or an S3-compatible bucket.

Both backends store a file's bytes under the key ``<user_id>/<file_id>`` and offer the same
four operations: a streaming writer (never the whole file in memory; S3 uploads in parts as
bytes arrive), a readable local file for the parsers (the stored file itself, or a temporary
copy streamed from the bucket and removed afterwards), a check that the bytes exist, and
delete. With S3, nothing of an upload is kept on the API's or the workers' disks beyond a
job's temporary copy.
"""

from __future__ import annotations

import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, BinaryIO

from aibox.errors import ConfigurationError, FileNotFoundInStoreError, OwnershipError
from aibox.settings import Settings


class ContentWriter(ABC):
    """Receives one file's bytes as they arrive."""

    @abstractmethod
    def write(self, data: bytes) -> None:
        """Append ``data``."""

    @abstractmethod
    def finish(self) -> None:
        """Every byte has arrived (idempotent)."""

    @abstractmethod
    def promote(self) -> None:
        """Make the bytes the stored content of their key (idempotent)."""

    @abstractmethod
    def discard(self) -> None:
        """Remove whatever was written."""


class ContentStore(ABC):
    """A place for files' bytes, by key."""

    @abstractmethod
    def writer(self, key: str) -> ContentWriter:
        """A writer for ``key``'s bytes."""

    @abstractmethod
    @contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        """A readable local file with ``key``'s bytes, for as long as the block runs;
        FileNotFoundInStoreError when there are none."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """True when ``key`` has stored bytes."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``'s bytes (nothing if there are none)."""

    @abstractmethod
    def location(self, key: str) -> str:
        """Where ``key``'s bytes are, for people and for the old ``file_path`` argument."""


class LocalContentStore(ContentStore):
    """Files in a directory: ``<root>/<user_id>/<file_id>``, written as ``.part`` first."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._resolved = root.resolve()

    def path(self, key: str) -> Path:
        """The absolute path of ``key``, guaranteed inside the root."""
        path = (self.root / key).resolve()
        if not path.is_relative_to(self._resolved):
            raise OwnershipError(f"stored path {key!r} leaves the storage directory")
        return path

    def writer(self, key: str) -> LocalWriter:
        return LocalWriter(self.path(key))

    @contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        path = self.path(key)
        if not path.is_file():
            raise FileNotFoundInStoreError(f"the stored bytes are missing ({path})")
        yield path

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def location(self, key: str) -> str:
        return str(self.path(key))


class LocalWriter(ContentWriter):
    """Writes ``<target>.part``, renamed to ``target`` on promotion."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.path = target.with_suffix(".part")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._out: BinaryIO | None = open(self.path, "wb")  # noqa: SIM115 - closed by finish()

    def write(self, data: bytes) -> None:
        if self._out is None:
            raise ValueError(f"{self.path} is already finished")
        self._out.write(data)

    def finish(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def promote(self) -> None:
        self.finish()
        if self.path != self.target:
            os.replace(self.path, self.target)
            self.path = self.target

    def discard(self) -> None:
        self.finish()
        self.path.unlink(missing_ok=True)


class S3ContentStore(ContentStore):
    """Objects in an S3-compatible bucket: ``<prefix><user_id>/<file_id>``."""

    #: Bytes per part of a multipart upload (S3's minimum is 5 MiB).
    PART_BYTES = 8 * 1024 * 1024

    def __init__(self, store: Any, bucket: str, prefix: str = "") -> None:
        self.store = store
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def from_settings(cls, settings: Settings) -> S3ContentStore:
        """The bucket the settings name, with their endpoint, region and credentials."""
        from obstore.store import S3Store

        if not settings.s3_bucket:
            raise ConfigurationError("AIBOX_STORAGE_BACKEND=s3 needs AIBOX_S3_BUCKET")
        options: dict[str, Any] = {"region": settings.s3_region}
        if settings.s3_endpoint_url:
            options["endpoint"] = settings.s3_endpoint_url
        if settings.s3_access_key_id and settings.s3_secret_access_key:
            options["access_key_id"] = settings.s3_access_key_id
            options["secret_access_key"] = settings.s3_secret_access_key.get_secret_value()
        plain_http = (settings.s3_endpoint_url or "").startswith("http://")
        store = S3Store(
            settings.s3_bucket,
            virtual_hosted_style_request=not settings.s3_path_style,
            client_options={"allow_http": plain_http},
            **options,
        )
        return cls(store, settings.s3_bucket, settings.s3_prefix)

    def object_key(self, key: str) -> str:
        """The object's name in the bucket."""
        if ".." in key.split("/") or key.startswith("/"):
            raise OwnershipError(f"stored path {key!r} leaves the storage prefix")
        return self.prefix + key

    def writer(self, key: str) -> S3Writer:
        return S3Writer(self, self.object_key(key))

    @contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        import obstore

        name = self.object_key(key)
        try:
            result = obstore.get(self.store, name)
        except FileNotFoundError as exc:
            raise FileNotFoundInStoreError(
                f"the stored bytes are missing from the object store ({self.location(key)})"
            ) from exc
        with tempfile.TemporaryDirectory(prefix="aibox-object-") as spool:
            path = Path(spool) / Path(key).name
            with open(path, "wb") as out:
                for piece in result.stream(min_chunk_size=1 << 20):
                    out.write(piece)
            yield path

    def exists(self, key: str) -> bool:
        import obstore

        try:
            obstore.head(self.store, self.object_key(key))
        except FileNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        import obstore

        with suppress(FileNotFoundError):
            obstore.delete(self.store, self.object_key(key))

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.object_key(key)}"


class S3Writer(ContentWriter):
    """Uploads the bytes as they arrive: a multipart upload of PART_BYTES parts, completed
    when every byte has arrived (one plain PUT for a file smaller than a part)."""

    def __init__(self, content: S3ContentStore, name: str) -> None:
        import obstore

        self.content = content
        self.name = name
        self._writer: Any = obstore.open_writer(
            content.store, name, buffer_size=S3ContentStore.PART_BYTES
        )

    def write(self, data: bytes) -> None:
        if self._writer is None:
            raise ValueError(f"{self.name} is already finished")
        self._writer.write(data)

    def finish(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def promote(self) -> None:
        self.finish()  # the object is at its final name already

    def discard(self) -> None:
        import obstore

        self.finish()
        with suppress(FileNotFoundError):
            obstore.delete(self.content.store, self.name)


def content_store_for(settings: Settings) -> ContentStore:
    """The content store the settings choose."""
    if settings.storage_backend == "s3":
        return S3ContentStore.from_settings(settings)
    return LocalContentStore(settings.storage_path)
