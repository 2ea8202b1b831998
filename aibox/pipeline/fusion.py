"""Fusing rankings: weighted reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009).

Each ranking lists items best first; an item's fused score is the sum, over the rankings that
hold it, of ``weight / (k + rank)``. Ranks, not scores, are added, so BM25 scores (unbounded),
cosine similarities and graph evidence counts combine without calibrating one against another;
a weight scales how far a ranking can move an item (0 leaves the ranking out).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

#: The constant of the original paper, also Elasticsearch's and Weaviate's default.
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
    k: int = RRF_K,
) -> list[Fused[K]]:
    """Fuse ``name -> [(item, score), ...]`` rankings into one, best first.

    Ties go to the item that the first ranking (in ``rankings`` order) placed higher, so a
    fusion of one ranking reproduces it exactly.
    """
    fused: dict[K, Fused[K]] = {}
    for name, ranking in rankings.items():
        weight = weights.get(name, 1.0)
        for rank, (key, score) in enumerate(ranking, 1):
            item = fused.setdefault(key, Fused(key))
            item.by[name] = Placed(rank, score)
            item.score += weight / (k + rank)
    order = {key: position for position, key in enumerate(fused)}
    return sorted(fused.values(), key=lambda item: (-item.score, order[item.key]))
