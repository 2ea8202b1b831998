"""Weighted reciprocal rank fusion."""

from __future__ import annotations

import pytest

from aibox.pipeline.fusion import RRF_K, fuse


def test_an_item_both_rankings_hold_beats_one_only_one_holds() -> None:
    fused = fuse(
        {"fulltext": [("a", 9.0), ("b", 5.0)], "vector": [("c", 0.9), ("b", 0.8)]},
        {"fulltext": 1.0, "vector": 1.0},
    )
    assert [item.key for item in fused] == ["b", "a", "c"]
    b = fused[0]
    assert b.score == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 2))
    assert {name: (p.rank, p.score) for name, p in b.by.items()} == {
        "fulltext": (2, 5.0),
        "vector": (2, 0.8),
    }


def test_weights_scale_what_a_ranking_can_move() -> None:
    rankings = {"fulltext": [("a", 2.0), ("b", 1.0)], "vector": [("b", 0.9), ("a", 0.1)]}
    assert [i.key for i in fuse(rankings, {"fulltext": 1.0, "vector": 0.5})] == ["a", "b"]
    assert [i.key for i in fuse(rankings, {"fulltext": 0.5, "vector": 1.0})] == ["b", "a"]


def test_one_ranking_comes_out_in_its_own_order() -> None:
    ranking = [(f"d{i}", float(100 - i)) for i in range(20)]
    assert [i.key for i in fuse({"fulltext": ranking}, {})] == [key for key, _ in ranking]
    assert fuse({}, {}) == []
