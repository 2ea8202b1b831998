"""Any OpenAI-compatible ``/v1/embeddings`` endpoint (Ollama, vLLM, TEI) through the openai SDK.

The SDK retries timeouts, connection errors, 408/409/429 and 5xx with exponential backoff; what
still fails afterwards becomes a :class:`TransientError` so the Celery task retries later. Other
4xx answers (bad key, unknown model, refused input) fail the job at once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import openai

from aibox.errors import (
    AiboxError,
    ConfigurationError,
    EmbedderMismatchError,
    PermanentError,
    TransientError,
)
from aibox.pipeline.embedders import l2_normalise, space_id

logger = logging.getLogger(__name__)

# Local servers ignore the key, but the SDK refuses to start without one.
PLACEHOLDER_API_KEY = "unused"
_RETRYABLE_STATUSES = frozenset({408, 409, 429})
#: The one text a worker sends when it starts, to check the endpoint and learn the dimension.
PROBE_TEXT = "dimension probe"


class OpenAIEmbedder:
    """Embed texts with a model behind an OpenAI-compatible embeddings endpoint."""

    name: str = "openai"

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        batch_size: int = 64,
        timeout_s: float = 30.0,
        max_retries: int = 3,
    ) -> None:
        if batch_size <= 0:
            raise ConfigurationError(
                f"AIBOX_OPENAI_EMBEDDING_BATCH_SIZE must be positive, got {batch_size}"
            )
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.batch_size = batch_size
        self.max_retries = max_retries
        self._api_key = api_key
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key or PLACEHOLDER_API_KEY,
            timeout=timeout_s,
            max_retries=max_retries,
        )
        self._dim = 0

    @property
    def dim(self) -> int:
        """The model's output size, learned from the endpoint's first answer."""
        self.load()
        return self._dim

    @property
    def id(self) -> str:
        """Vector space id, e.g. ``openai-nomic-embed-text-768`` (asks the endpoint once)."""
        return space_id(self.name, self.model, self.dim)

    def load(self) -> None:
        """Check the endpoint and learn the dimension with one small request, once."""
        if not self._dim:
            self._embed_batch([PROBE_TEXT])
            logger.info(
                "embedding endpoint %s serves %s (%d dims)", self.base_url, self.model, self._dim
            )

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Return one unit-length float32 row per text (all zeros for an empty text)."""
        keep = [i for i, text in enumerate(texts) if text]
        # OpenAI refuses empty strings as input, so they are never sent.
        rows = [
            self._embed_batch([texts[i] for i in keep[start : start + self.batch_size]])
            for start in range(0, len(keep), self.batch_size)
        ]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if rows:
            out[keep] = np.vstack(rows)
        return out

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def _embed_batch(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Embed one batch in one request; rows in the order of ``texts``."""
        try:
            response = self._client.embeddings.create(
                model=self.model,
                input=texts,
                # Not the SDK's base64 default: several local servers only speak floats.
                encoding_format="float",
            )
        except openai.APIStatusError as exc:
            raise self._status_error(exc) from exc
        except openai.APIConnectionError as exc:
            raise TransientError(
                f"{self._where()} unreachable after {self.max_retries} retries: {exc}"
            ) from exc
        data = sorted(response.data, key=lambda item: item.index)
        if [item.index for item in data] != list(range(len(texts))):
            raise PermanentError(
                f"{self._where()} answered {len(data)} embeddings for {len(texts)} inputs"
            )
        dims = {len(item.embedding) for item in data}
        dim = dims.pop() if len(dims) == 1 else 0
        if not dim:
            raise PermanentError(f"{self._where()} answered vectors of sizes {sorted(dims)}")
        if self._dim and dim != self._dim:
            raise EmbedderMismatchError(
                f"{self._where()} now answers {dim}-dim vectors instead of {self._dim}: "
                "the model behind it changed; restart the workers to index into a new space"
            )
        self._dim = dim
        return l2_normalise(np.array([item.embedding for item in data], dtype=np.float32))

    def _status_error(self, exc: openai.APIStatusError) -> AiboxError:
        """The aibox error for an HTTP error answer that the SDK gave up on."""
        status = exc.status_code
        detail = f"{self._where()} answered {status}: {self._server_message(exc)}"
        if status in _RETRYABLE_STATUSES or status >= 500:
            return TransientError(f"{detail} (after {self.max_retries} retries)")
        if status in (401, 403):
            return ConfigurationError(f"{detail}; check AIBOX_OPENAI_API_KEY")
        if status == 404:
            return ConfigurationError(
                f"{detail}; check AIBOX_OPENAI_EMBEDDING_MODEL and AIBOX_OPENAI_BASE_URL"
            )
        return PermanentError(detail)

    def _server_message(self, exc: openai.APIStatusError) -> str:
        """The server's own error message, short, with the API key masked if it echoes it."""
        # The SDK has already unwrapped ``{"error": ...}``: a dict (OpenAI) or a string (Ollama).
        body = exc.body
        message = body.get("message") if isinstance(body, dict) else body
        text = str(message or exc.message)[:300]
        return text.replace(self._api_key, "***") if self._api_key else text

    def _where(self) -> str:
        """How error messages name the endpoint (never with the key)."""
        return f"embedding endpoint {self.base_url} (model {self.model!r})"
