"""The full-text index on the real Redis server: BM25 ranking, exact replace and remove."""

from __future__ import annotations

import math
from typing import Any

import pytest

from aibox import keys
from aibox.connections import get_binary_redis
from aibox.pipeline.terms import analyze, file_terms, term_counts
from aibox.pipeline.types import Chunk
from aibox.store.fulltext import FullTextIndex


@pytest.fixture
def index(redis_client: Any) -> FullTextIndex:
    return FullTextIndex(get_binary_redis())


def chunks(*texts: str) -> list[Chunk]:
    return [Chunk(i, text, 0, len(text)) for i, text in enumerate(texts)]


def add(index: FullTextIndex, file_id: str, *texts: str, user: str = "u") -> None:
    index.replace(user, file_id, file_terms(chunks(*texts)))


def search(index: FullTextIndex, query: str, **kwargs: Any) -> list[tuple[str, int]]:
    return [(h.file_id, h.chunk_index) for h in index.search("u", analyze(query), 10, **kwargs)]


def user_keys(redis_client: Any, user: str = "u") -> set[str]:
    return set(redis_client.scan_iter(match=keys.fulltext_pattern(user)))


def test_bm25_ranks_by_rarity_frequency_and_length(index: FullTextIndex) -> None:
    texts = {
        "f1": ("kernel module loading", "kernel kernel kernel panic"),
        "f2": ("kernel " + "filler words go here " * 20, "module signing keys"),
        "f3": ("apt pinning preferences",),
    }
    for file_id, file_texts in texts.items():
        add(index, file_id, *file_texts)
    # The rarer term decides: "signing" is in one chunk, "kernel" in three.
    assert search(index, "kernel signing")[0] == ("f2", 1)
    # More occurrences rank higher; a long chunk with one occurrence ranks last.
    assert search(index, "kernel") == [("f1", 1), ("f1", 0), ("f2", 0)]
    hits = index.search("u", analyze("pinning"), 10)
    # One chunk of five holds the term: idf = ln(1 + (5 - 1 + 0.5) / 1.5), tf 1 at length 3.
    lengths = [term_counts(t)[1] for file_texts in texts.values() for t in file_texts]
    average = sum(lengths) / 5
    idf = math.log(1 + (5 - 1 + 0.5) / 1.5)
    expected = idf * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 3 / average))
    assert hits[0].score == pytest.approx(expected)


def test_file_filter_and_users_are_separate(index: FullTextIndex) -> None:
    add(index, "f1", "debian installer")
    add(index, "f2", "debian handbook")
    add(index, "f9", "debian secrets", user="other")
    assert {f for f, _ in search(index, "debian")} == {"f1", "f2"}
    assert search(index, "debian", file_ids=["f2"]) == [("f2", 0)]
    assert search(index, "debian", file_ids=[]) == []
    assert search(index, "secrets") == []
    assert search(index, "installer", file_ids=["f2"]) == []


def test_chinese_documents_are_found_in_either_script(index: FullTextIndex) -> None:
    add(index, "zh", "設定網路介面與防火牆", "安裝軟體套件")
    add(index, "en", "network interfaces")
    assert search(index, "网络")[0] == ("zh", 0)
    assert search(index, "软件")[0] == ("zh", 1)


def test_replacing_a_file_leaves_no_stale_postings(index: FullTextIndex, redis_client: Any) -> None:
    add(index, "f1", "alpha beta", "gamma delta", "epsilon")
    add(index, "f2", "alpha")
    add(index, "f1", "alpha zeta")  # fewer chunks, other words
    assert search(index, "gamma epsilon beta") == []
    assert search(index, "alpha") == [("f2", 0), ("f1", 0)]
    assert index.count("u") == 2
    assert index.count("u", "f1") == 1
    assert not redis_client.exists(keys.fulltext_postings("u", "gamma"))
    stats = redis_client.hgetall(keys.fulltext_stats("u"))
    assert (stats["chunks"], stats["length"]) == ("2", "3")


def test_removing_files_removes_every_key_but_the_counter(
    index: FullTextIndex, redis_client: Any
) -> None:
    add(index, "f1", "alpha beta", "網路")
    add(index, "f2", "alpha gamma")
    index.remove("u", "f1")
    index.remove("u", "f1")  # idempotent
    assert search(index, "alpha beta 网络") == [("f2", 0)]
    index.remove("u", "f2")
    assert user_keys(redis_client) == {keys.fulltext_stats("u")}
    stats = redis_client.hgetall(keys.fulltext_stats("u"))
    assert (stats["chunks"], stats["length"]) == ("0", "0")


def test_a_write_interrupted_half_way_is_converged_by_the_next(
    index: FullTextIndex, redis_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(index, "f1", "old words only")

    class CrashError(Exception):
        pass

    def crash(*args: Any, **kwargs: Any) -> None:
        raise CrashError

    # Crash after the new postings are written, before old-only terms are removed.
    monkeypatch.setattr(index, "_remove_fields", crash)
    with pytest.raises(CrashError):
        add(index, "f1", "new text entirely")
    monkeypatch.undo()
    assert search(index, "new")  # written
    index.remove("u", "f1")  # the write-ahead term list covers old and new
    assert user_keys(redis_client) == {keys.fulltext_stats("u")}


def test_a_long_query_keeps_its_rarest_terms(index: FullTextIndex) -> None:
    add(index, "common", " ".join(f"w{i}" for i in range(100)))
    add(index, "common too", " ".join(f"w{i}" for i in range(100)))
    add(index, "rare", "needle")
    query = [f"w{i}" for i in range(100)] + ["needle"]  # 101 terms: "needle" is the rarest
    hits = index.search("u", analyze(" ".join(query)), 3)
    assert {h.file_id for h in hits} == {"common", "common too", "rare"}
