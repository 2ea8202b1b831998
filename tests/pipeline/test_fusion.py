"""Fusing rankings: relative score fusion and reciprocal rank fusion."""

from __future__ import annotations

import pytest

from aibox.pipeline.fusion import RRF_K, fuse


def test_relative_fusion_rescales_each_ranking_then_weighs_it() -> None:
    # BM25 is sure of "a"; the vector ranking barely prefers "c" (near-equal similarities).
    rankings = {
        "fulltext": [("a", 30.0), ("b", 3.0), ("c", 2.0)],
        "vector": [("c", 0.21), ("b", 0.20), ("a", 0.19)],
    }
    fused = fuse(rankings, {"fulltext": 1.0, "vector": 0.25})
    scores = {item.key: item.score for item in fused}
    assert scores == pytest.approx({"a": 1.0, "b": 1 / 28 + 0.125, "c": 0.25})
    assert [item.key for item in fused] == ["a", "c", "b"]


def test_an_item_both_rankings_hold_beats_one_only_one_holds() -> None:
    rankings = {"fulltext": [("a", 9.0), ("b", 5.0)], "vector": [("c", 0.9), ("b", 0.8)]}
    weights = {"fulltext": 1.0, "vector": 1.0}
    rrf = fuse(rankings, weights, method="rrf")
    assert [item.key for item in rrf] == ["b", "a", "c"]
    assert rrf[0].score == pytest.approx(2 / (RRF_K + 2))
    assert {name: (p.rank, p.score) for name, p in rrf[0].by.items()} == {
        "fulltext": (2, 5.0),
        "vector": (2, 0.8),
    }
    relative = fuse(
        {"fulltext": [("a", 9.0), ("b", 8.9), ("x", 1.0)], "vector": [("b", 0.9), ("y", 0.1)]},
        weights,
    )
    assert relative[0].key == "b"


def test_weights_scale_what_a_ranking_can_move() -> None:
    rankings = {"fulltext": [("a", 2.0), ("b", 1.0)], "vector": [("b", 0.9), ("a", 0.1)]}
    for method in ("relative", "rrf"):
        heavy_text = fuse(rankings, {"fulltext": 1.0, "vector": 0.5}, method=method)
        heavy_vector = fuse(rankings, {"fulltext": 0.5, "vector": 1.0}, method=method)
        assert [i.key for i in heavy_text] == ["a", "b"], method
        assert [i.key for i in heavy_vector] == ["b", "a"], method


def test_one_ranking_comes_out_in_its_own_order() -> None:
    ranking = [(f"d{i}", float(100 - i)) for i in range(20)] + [("tie", 80.0)]
    for method in ("relative", "rrf"):
        fused = fuse({"fulltext": ranking}, {}, method=method)
        assert [i.key for i in fused] == [key for key, _ in ranking], method
    assert fuse({}, {}) == []
    single = fuse({"fulltext": [("only", 3.5)]}, {"fulltext": 1.0})
    assert single[0].score == pytest.approx(1.0)
