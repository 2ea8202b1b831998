"""Request and response bodies, named by role. Every response is wrapped in :class:`Envelope`."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from aibox.store.graph_queries import TripleRow

T = TypeVar("T")


class Envelope(BaseModel, Generic[T]):
    """The old API's envelope: ``{success, message, data}``; errors add a stable ``code``."""

    success: bool = True
    message: str = ""
    data: T | None = None


class ErrorEnvelope(BaseModel):
    """An error: ``success`` is false, ``code`` is stable, ``message`` is for humans."""

    success: Literal[False] = False
    code: str
    message: str
    data: Any = None


class UploadRejection(BaseModel):
    """Why one file of an upload was refused."""

    status: int = Field(description="the HTTP status this file alone gets: 409, 413, 415 or 429")
    code: str = Field(description="file_too_large, unsupported_file_type or too_many_queued_jobs")
    message: str


class UploadedFile(BaseModel):
    """One file of an upload: queued, reused (its bytes were already uploaded) or rejected."""

    index: int = Field(description="position among the request's files, from 0")
    filename: str
    status: str = Field(
        description="'queued' when accepted, the existing file's status when reused, "
        "'rejected' when refused"
    )
    file_id: str | None = Field(
        default=None,
        description="the file: a new one, or the existing one with the same content when "
        "reused; null when rejected (nothing was stored)",
    )
    upload_id: str | None = Field(
        default=None,
        description="this upload's progress record, GET /files/{upload_id}/upload (kept for "
        "an hour; also for a refused file once its bytes were being read); equals file_id "
        "when the file was stored as a new one",
    )
    job_id: str | None = None
    file_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    version: int | None = None
    previous_version_id: str | None = None
    reused: bool = False
    duplicate_of: str | None = Field(
        default=None, description="the existing file with the same content, when reused"
    )
    error: UploadRejection | None = None


class UploadBatch(BaseModel):
    """The outcome of an upload with ``files`` fields, file by file in request order."""

    files: list[UploadedFile]
    accepted: int = Field(description="files queued or reused")
    rejected: int
    truncated: bool = Field(
        default=False,
        description="reading stopped at a file over the size limit: later files were not read",
    )


class UploadProgressPublic(BaseModel):
    """How far the upload of one file got."""

    upload_id: str
    file_id: str | None = Field(
        default=None,
        description="the file the upload became, once stored (an existing file's id when "
        "its content was already there); null while uploading or when refused",
    )
    filename: str
    status: Literal["uploading", "completed", "failed"]
    bytes_received: int
    total_bytes: int | None = None
    progress: int | None = Field(default=None, description="0–100 when the size is known")
    message: str | None = None
    updated_at: float


def upload_request_body(max_files: int) -> dict[str, Any]:
    """The OpenAPI multipart body of ``POST /files`` (read by hand while streaming)."""
    binary = {"type": "string", "contentMediaType": "application/octet-stream"}
    files = {
        "type": "array",
        "items": binary,
        "minItems": 1,
        "maxItems": max_files,
        "description": "the documents to process (repeat the field; older clients may send "
        "one document as 'file' instead)",
    }
    schema = {"type": "object", "properties": {"files": files}, "required": ["files"]}
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}


class FilePublic(BaseModel):
    """A file's metadata as its owner sees it."""

    file_id: str
    filename: str
    file_type: str
    size: int
    sha256: str
    created_at: float
    status: str
    job_id: str | None = None
    chunk_count: int = 0
    embedder: str | None = None
    error: str | None = None
    version: int = 1
    previous_version_id: str | None = None


class StageStatus(BaseModel):
    """One stage of a file's processing (chunking, vectorization, storage, kg_extraction)."""

    model_config = ConfigDict(extra="allow")

    status: str
    progress: int = 0
    message: str | None = None
    error: str | None = None


class ProcessingStatus(BaseModel):
    """A file's processing status, in the old system's shape."""

    model_config = ConfigDict(extra="allow")

    file_id: str
    status: str
    progress: int = 0
    message: str | None = None
    stage: str | None = None
    job_id: str | None = None
    error: str | None = None
    updated_at: float | None = None
    chunking: StageStatus
    vectorization: StageStatus
    storage: StageStatus
    kg_extraction: StageStatus


class JobPublic(BaseModel):
    """A job: its registry record joined with Celery's state and progress."""

    job_id: str
    task: str
    queue: str
    state: str = Field(description="registry state: queued, started, finished, failed, revoked")
    celery_state: str = Field(description="Celery state: PENDING, STARTED, PROGRESS, SUCCESS…")
    file_id: str | None = None
    progress: int | None = None
    stage: str | None = None
    message: str | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    retries: int = 0
    created_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None


class RegenerateRequest(BaseModel):
    """Which part of a file's processing to run again."""

    type: Literal["vector", "graph", "full"] = "full"
    force_rechunk: bool = False


class JobSubmitted(BaseModel):
    """A job queued for an existing file."""

    file_id: str
    job_id: str
    type: Literal["vector", "graph", "full"]
    status: Literal["queued"] = "queued"


class HealthPublic(BaseModel):
    """Whether the API can reach a Redis server with what aibox needs."""

    status: Literal["ok", "unavailable"]
    redis: bool
    detail: str | None = None


class ChunkPublic(BaseModel):
    """One chunk of a file: its text and where it sits in the document."""

    index: int
    text: str
    start: int
    end: int
    page: int | None = None


class SearchRequest(BaseModel):
    """A search over the caller's files."""

    query: str = Field(min_length=1, max_length=4000)
    k: int = Field(default=10, ge=1, le=100)
    file_ids: list[str] | None = Field(default=None, max_length=1000)
    mode: Literal["hybrid", "vector", "fulltext"] = Field(
        default="hybrid",
        description="hybrid fuses the full-text (BM25) and vector rankings; vector or fulltext "
        "uses one alone",
    )
    graph: bool = Field(
        default=False,
        strict=True,
        description="also rank chunks by the knowledge graph (the entities the query names and "
        "their relations) and return that graph context",
    )


class RankPublic(BaseModel):
    """Where one ranking placed a hit."""

    rank: int = Field(description="1 is that ranking's best")
    score: float = Field(description="that ranking's own score: BM25, similarity or graph evidence")


class SearchHit(ChunkPublic):
    """A chunk matching a search, best first."""

    file_id: str
    filename: str
    score: float = Field(
        description="hybrid: the fused reciprocal-rank score; vector: similarity (1 identical, "
        "0 opposite); fulltext: BM25"
    )
    found_by: dict[str, RankPublic] = Field(
        default_factory=dict, description="ranking name (fulltext, vector, graph) -> its placing"
    )


class EntityPublic(BaseModel):
    """An entity of the caller's knowledge graph."""

    id: str
    name: str
    type: str
    files: int | None = Field(default=None, description="how many files mention it")


class TriplePublic(BaseModel):
    """A typed relation between two entities, with where it was found."""

    source: EntityPublic
    type: str
    target: EntityPublic
    file_id: str
    chunk: int
    evidence: str
    confidence: float


class GraphContextPublic(BaseModel):
    """The entities a query names and their one-hop relations, with evidence."""

    entities: list[EntityPublic]
    relations: list[TriplePublic]


class SearchEnvelope(Envelope[list[SearchHit]]):
    """A search's hits in ``data``; with ``graph: true`` the graph context beside them."""

    graph: GraphContextPublic | None = None


class EntityChunkPublic(ChunkPublic):
    """A chunk that mentions an entity or holds one of its relations."""

    file_id: str
    filename: str


class DeletionPublic(BaseModel):
    """What deleting a file removed."""

    file_id: str
    revoked_jobs: list[str]
    chunks: int
    vectors: int


def triple_public(triple: TripleRow) -> TriplePublic:
    """The API shape of a graph query row."""
    return TriplePublic(
        source=EntityPublic(id=triple.source.id, name=triple.source.name, type=triple.source.type),
        type=triple.type,
        target=EntityPublic(id=triple.target.id, name=triple.target.name, type=triple.target.type),
        file_id=triple.file_id,
        chunk=triple.chunk,
        evidence=triple.evidence,
        confidence=triple.confidence,
    )


class UserPublic(BaseModel):
    """An account, without secrets."""

    user_id: str
    role: str


class TokenData(BaseModel):
    """A bearer token and when it expires."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int
    expires_at: int


class TokenPublic(BaseModel):
    """OAuth2 token response, also carrying aibox's envelope fields."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int
    success: bool = True
    message: str = ""
    data: TokenData
