"""Character n-gram feature hashing: a language-agnostic embedder with no model to download."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

# splitmix64 finaliser constants: they spread the polynomial hash over all 64 bits.
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_MULTIPLIER = np.uint64(0x100000001B3)  # FNV-1a 64-bit prime
_NGRAM_SIZES = (2, 3)  # why 2 and 3: see HashingEmbedder
_SPACE = 0x20
# Whitespace folded to one space so line breaks and tabs hash like spaces.
_WHITESPACE = np.array([0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x3000], dtype=np.uint64)
# Texts are hashed together in batches of about this many characters to bound memory.
_BATCH_CHARS = 1 << 17


class HashingEmbedder:
    """Embed texts as signed-hashed counts of character 2- and 3-grams, L2-normalised.

    Bigrams and trigrams are the units that carry meaning in both target languages: most
    Chinese words are one or two characters (the bigram is the classic CJK indexing unit) and
    English 3-grams approximate morphemes. Unigrams are left out because in English they only
    encode letter frequencies, which makes every pair of English texts look alike. Each text is
    padded with a space at both ends, so word boundaries and single-character texts still yield
    n-grams. The hash is a fixed polynomial over code points, identical in every process.
    """

    name: str = "hashing"

    def __init__(self, dim: int) -> None:
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        self.dim = dim

    @property
    def id(self) -> str:
        """Stable identifier of this embedder and its vector space, e.g. ``hashing-384``."""
        return f"{self.name}-{self.dim}"

    def load(self) -> None:
        """Nothing to load: the hashing scheme is pure arithmetic."""

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Return one L2-normalised float32 row per text (all zeros for an empty text)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        batch_start = 0
        batch_chars = 0
        for i, text in enumerate(texts):
            batch_chars += len(text) + 2
            if batch_chars >= _BATCH_CHARS:
                out[batch_start : i + 1] = self._embed_batch(texts[batch_start : i + 1])
                batch_start, batch_chars = i + 1, 0
        if batch_start < len(texts):
            out[batch_start:] = self._embed_batch(texts[batch_start:])
        return out

    def _embed_batch(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Embed ``texts`` with one vectorised pass over their concatenated code points."""
        padded = [f" {t.casefold()} " if t else "" for t in texts]
        lengths = np.fromiter((len(p) for p in padded), dtype=np.int64, count=len(padded))
        codes = np.frombuffer(
            "".join(padded).encode("utf-32-le", "surrogatepass"), dtype="<u4"
        ).astype(np.uint64)
        codes[np.isin(codes, _WHITESPACE)] = _SPACE
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)

        counts = np.zeros(len(texts) * self.dim, dtype=np.float64)
        for n in _NGRAM_SIZES:
            if len(codes) < n:
                continue
            count = len(codes) - n + 1
            # An n-gram counts only if it lies within one text: first and last chars share a row.
            inside = rows[:count] == rows[n - 1 :]
            hashes = np.full(count, n, dtype=np.uint64)
            for offset in range(n):
                hashes = hashes * _MULTIPLIER + codes[offset : offset + count]
            hashes = _mix(hashes[inside])
            buckets = (hashes >> np.uint64(1)) % np.uint64(self.dim)
            signs = 1.0 - 2.0 * (hashes & np.uint64(1)).astype(np.float64)
            counts += np.bincount(
                rows[:count][inside] * self.dim + buckets.astype(np.int64),
                weights=signs,
                minlength=len(counts),
            )
        matrix = counts.reshape(len(texts), self.dim)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        # Only empty texts have zero norm: a text of L chars yields 2L + 1 signed n-grams, an odd
        # count that sign collisions cannot cancel out completely.
        np.divide(matrix, norms, out=matrix, where=norms > 0)
        return matrix.astype(np.float32)


def _mix(hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Scramble 64-bit hashes (splitmix64 finaliser) so low bits depend on every input bit."""
    hashes = (hashes ^ (hashes >> np.uint64(30))) * _MIX_1
    hashes = (hashes ^ (hashes >> np.uint64(27))) * _MIX_2
    return hashes ^ (hashes >> np.uint64(31))
