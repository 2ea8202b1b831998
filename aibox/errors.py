"""The one exception hierarchy of aibox.

Two families matter to the task layer: :class:`PermanentError` fails a job at once with its
message shown to the user, :class:`TransientError` makes the job retry with backoff.
"""

from __future__ import annotations


class AiboxError(Exception):
    """Raised when aibox itself detects a problem; the base of every aibox error."""


class ConfigurationError(AiboxError):
    """Raised when the settings are unsafe or inconsistent; the message says what to set."""


class ServerCapabilityError(ConfigurationError):
    """Raised when the Redis server reached lacks vector sets or the FalkorDB module."""


class PermanentError(AiboxError):
    """Raised when retrying cannot help: the job fails at once with this message."""


class UnsupportedFileTypeError(PermanentError):
    """Raised when a file's type is not one aibox can parse."""


class UnreadableFileError(PermanentError):
    """Raised when a file's bytes cannot be decoded or parsed (binary, corrupt, truncated)."""


class EmptyDocumentError(PermanentError):
    """Raised when a file parses to no text at all."""


class DocumentTooLargeError(PermanentError):
    """Raised when a file's text exceeds the configured maximum document size."""


class FileNotFoundInStoreError(PermanentError):
    """Raised when a job names a file that has no record or whose bytes are missing."""


class OwnershipError(PermanentError):
    """Raised when a job's user or path does not match the stored file record."""


class EmbedderMismatchError(PermanentError):
    """Raised when vectors from one embedder would be written into another embedder's index."""


class FileBusyError(AiboxError):
    """Raised when another job holds the file's lock; the job waits and tries again."""


class TransientError(AiboxError):
    """Raised when a failure may pass by itself (a remote endpoint timing out): the job retries."""


class NotFoundError(AiboxError):
    """Raised when a file or job does not exist or is not visible to the caller."""


class AuthenticationError(AiboxError):
    """Raised when a request carries no valid credentials (missing, expired or revoked token)."""


class PermissionDeniedError(AiboxError):
    """Raised when an authenticated user lacks the role an operation needs."""


class ConflictError(AiboxError):
    """Raised when a request conflicts with the current state (e.g. a job already running).

    ``data`` (JSON-able, optional) goes to the client with the message, e.g. the running
    job's id.
    """

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
