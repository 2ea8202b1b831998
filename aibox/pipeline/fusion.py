"""Fusing rankings into one: relative score fusion (the default) or reciprocal rank fusion.

Each ranking lists its candidates best first with its own scores (BM25, cosine similarity,
graph evidence: none comparable with another). Two ways to combine them:

- ``relative`` (Weaviate's *relativeScoreFusion*): each ranking's scores are rescaled to
  0..1 over its candidates (best 1, worst 0), then summed with the ranking's weight; a
  candidate a ranking does not hold gets 0 from it. The size of a lead survives, so one
  chunk that holds every word of a phrase stays ahead of chunks a weak ranking happens to
  put first.
- ``rrf`` (Cormack, Clarke & Büttcher, SIGIR 2009): the sum of ``weight / (k + rank)``;
  only ranks count. Measured on the retrieval benchmark it let the hashing embedder's
  near-random order pull phrase hits out of the top three (see BENCHMARKS.md), which is why
  it is not the default.

A weight scales how far a ranking can move an item (0 leaves the ranking out).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

K = TypeVar("K", bound=Hashable)
Method = Literal["relative", "rrf"]
METHODS: tuple[Method, ...] = ("relative", "rrf")

#: The constant of the original RRF paper, also Elasticsearch's and Weaviate's default.
RRF_K = 60


@dataclass(frozen=True, slots=True)
class Placed:
    """Where one ranking put an item: its 1-based rank and the ranking's own score."""

    rank: int
    score: float


@dataclass(slots=True)
class Fused(Generic[K]):
    """An item of the fused ranking and where each ranking had placed it."""

    key: K
    score: float = 0.0
    by: dict[str, Placed] = field(default_factory=dict)


def fuse(
    rankings: Mapping[str, Sequence[tuple[K, float]]],
    weights: Mapping[str, float],
    *,
    method: Method = "relative",
    k: int = RRF_K,
) -> list[Fused[K]]:
    """Fuse ``name -> [(item, score), ...]`` rankings (each best first) into one, best first.

    Ties go to the item met first (the first ranking's order, in ``rankings`` order), so a
    fusion of one ranking reproduces it exactly.
    """
    fused: dict[K, Fused[K]] = {}
    for name, ranking in rankings.items():
        weight = weights.get(name, 1.0)
        if method == "rrf":
            gains = [weight / (k + rank) for rank in range(1, len(ranking) + 1)]
        else:
            gains = [weight * g for g in _rescaled([score for _, score in ranking])]
        for rank, ((key, score), gain) in enumerate(zip(ranking, gains, strict=True), 1):
            item = fused.setdefault(key, Fused(key))
            item.by[name] = Placed(rank, score)
            item.score += gain
    order = {key: position for position, key in enumerate(fused)}
    return sorted(fused.values(), key=lambda item: (-item.score, order[item.key]))


def _rescaled(scores: Sequence[float]) -> list[float]:
    """Scores mapped onto 0..1 by min-max; all 1 when they are equal (or there is one)."""
    if not scores:
        return []
    high, low = max(scores), min(scores)
    if high == low:
        return [1.0] * len(scores)
    return [(s - low) / (high - low) for s in scores]
