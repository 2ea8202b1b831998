"""The one exception hierarchy of aibox.

Two families matter to the task layer: :class:`PermanentError` fails a job at once with its
message shown to the user, :class:`TransientError` makes the job retry with backoff. Every
class also says how the API answers it: ``status`` (HTTP) and ``code`` (stable, for
programs), which one exception handler turns into the error envelope (aibox/api/errors.py).
"""

from __future__ import annotations

from typing import ClassVar


class AiboxError(Exception):
    """Raised when aibox itself detects a problem; the base of every aibox error."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    #: Extra response headers (e.g. WWW-Authenticate for 401).
    headers: ClassVar[dict[str, str]] = {}
    #: JSON-able details sent with the message (e.g. a running job's id), or None.
    data: dict[str, object] | None = None

    def public_message(self) -> str:
        """What the API tells the client: the message, except for server-side errors."""
        if self.status >= 500:
            return "internal error; the server log has the details"
        return str(self)


class ConfigurationError(AiboxError):
    """Raised when the settings are unsafe or inconsistent; the message says what to set."""


class ServerCapabilityError(ConfigurationError):
    """Raised when the Redis server reached lacks vector sets or the FalkorDB module."""


class PermanentError(AiboxError):
    """Raised when retrying cannot help: the job fails at once with this message."""

    status = 400
    code = "bad_request"


class UnsupportedFileTypeError(PermanentError):
    """Raised when a file's type is not one aibox can parse."""

    status = 415
    code = "unsupported_file_type"


class UnreadableFileError(PermanentError):
    """Raised when a file's bytes cannot be decoded or parsed (binary, corrupt, truncated)."""


class EmptyDocumentError(PermanentError):
    """Raised when a file parses to no text at all."""


class DocumentTooLargeError(PermanentError):
    """Raised when a file's text exceeds the configured maximum document size."""


class FileTooLargeError(PermanentError):
    """Raised when an upload exceeds ``max_upload_bytes``."""

    status = 413
    code = "file_too_large"

    @classmethod
    def over(cls, max_bytes: int) -> FileTooLargeError:
        """The error for a file that went past ``max_bytes``."""
        return cls(f"file is larger than the {max_bytes}-byte limit")


class FileNotFoundInStoreError(PermanentError):
    """Raised when a job names a file that has no record or whose bytes are missing."""


class OwnershipError(PermanentError):
    """Raised when a job's user or path does not match the stored file record."""


class EmbedderMismatchError(PermanentError):
    """Raised when vectors from one embedder would be written into another embedder's index."""

    status = 409
    code = "embedder_mismatch"


class InvalidAccountError(PermanentError):
    """Raised when a username, role or password does not meet the rules."""


class InvalidCursorError(PermanentError):
    """Raised when a pagination cursor was not produced by this API (or for another listing)."""


class UploadRefusedError(AiboxError):
    """Raised when a whole upload request is refused; nothing of it is kept.

    Its status and code depend on why (400, 413, 422), so they are given with the message.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status  # type: ignore[misc]  # an instance's own answer
        self.code = code  # type: ignore[misc]


class QueueLimitError(AiboxError):
    """Raised when a user who has ``max_queued_jobs_per_user`` jobs queued submits another."""

    status = 429
    code = "too_many_queued_jobs"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after_s)}  # type: ignore[misc]
        self.data = {"retry_after_s": retry_after_s}

    @classmethod
    def reached(cls, queued: int, limit: int, retry_after_s: int) -> QueueLimitError:
        """The error for a user with ``queued`` jobs queued, ``limit`` allowed."""
        return cls(
            f"you have {queued} jobs queued, the most one user may have is {limit}; "
            f"try again when some of them have run (in about {retry_after_s} s)",
            retry_after_s=retry_after_s,
        )


class FileBusyError(AiboxError):
    """Raised when another job holds the file's lock; the job waits and tries again."""

    status = 409
    code = "file_busy"


class TransientError(AiboxError):
    """Raised when a failure may pass by itself (a remote endpoint timing out): the job retries."""

    status = 503
    code = "service_unavailable"


class EnqueueError(AiboxError):
    """Raised when a job could not be handed to the broker; nothing was queued."""

    status = 503
    code = "service_unavailable"

    def public_message(self) -> str:
        """The broker is Redis: say so, without the connection details."""
        return "the job store (Redis) is unavailable; try again shortly"


class NotFoundError(AiboxError):
    """Raised when a file or job does not exist or is not visible to the caller."""

    status = 404
    code = "not_found"


class AuthenticationError(AiboxError):
    """Raised when a request carries no valid credentials (missing, expired or revoked token)."""

    status = 401
    code = "unauthorized"
    headers = {"WWW-Authenticate": "Bearer"}  # noqa: RUF012 - read-only, one per class


class PermissionDeniedError(AiboxError):
    """Raised when an authenticated user lacks the role an operation needs."""

    status = 403
    code = "forbidden"


class ConflictError(AiboxError):
    """Raised when a request conflicts with the current state (e.g. a job already running).

    ``data`` (JSON-able, optional) goes to the client with the message, e.g. the running
    job's id.
    """

    status = 409
    code = "conflict"

    def __init__(self, message: str, data: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.data = data


def describe_error(exc: BaseException | None) -> str:
    """One line for operators: the exception's class and message."""
    if exc is None:
        return "unknown error"
    message = str(exc).strip()
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def user_message(exc: BaseException) -> str:
    """One line for users: aibox's own message, or the class and message of anything else."""
    if isinstance(exc, AiboxError) and str(exc).strip():
        return str(exc).strip()
    return describe_error(exc)
