"""The full-text index: BM25 over every chunk, one inverted index per user, kept in Redis.

Why not the server's own full-text engine: FalkorDB's full-text indexes (RediSearch inside
the module; the embedded Redis has no query engine of its own) score with TF-IDF normalised
by a document's most frequent term and *average* the scores of a query's terms, so a chunk
holding one query word outranks one holding all of them; and ``queryNodes`` yields every match
unsorted, so the top ten of a common word means sorting all of them in Cypher. Measured in
``bench/retrieval.py``; see the README. BM25 itself is a few lines of numpy; what needs care
is storing postings compactly and replacing them exactly, which is what this module does.

Layout, for user U (key names in :mod:`aibox.keys`):

- ``postings(U, term)``: a hash, one field per file holding the term (the file's small
  integer *ref*), whose value packs that file's postings as 12-byte records
  ``(ref u32, chunk u32, tf u16, length u16)``. Every record carries its ref, so a term's
  whole posting list is ``HVALS`` + one ``numpy.frombuffer``.
- ``files(U)``: file id -> ``"ref chunks length"``; ``refs(U)``: ref -> file id;
  ``stats(U)``: the user's chunk count, total length (for the average) and the next ref.
- ``file_terms(U, file)``: the terms the file may have postings under.

Replacing a file's postings is write-ahead, like its vectors: the file's term list first
becomes old ∪ new, then every new term's field is written (``HSET`` overwrites in place),
then the old-only terms' fields are deleted, then the list becomes the new terms and the
counts are updated in one script. A crash at any point leaves a list that covers every field
written, so the next run — or a delete — removes exactly what is there.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import cast

import numpy as np
import redis

from aibox import keys
from aibox.pipeline.terms import FileTerms
from aibox.store.vectors import Hit

RECORD = np.dtype([("ref", "<u4"), ("chunk", "<u4"), ("tf", "<u2"), ("length", "<u2")])
#: Lucene's BM25 defaults.
K1 = 1.2
B = 0.75
#: A query with more distinct terms keeps its rarest ones (the others add cost, not rank).
MAX_QUERY_TERMS = 64
_BATCH = 1000
_U16 = 0xFFFF

# KEYS: files, refs, stats. ARGV: file id. Returns the file's ref, creating it if new.
_REF = """
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if entry then return tonumber(string.match(entry, '^(%d+)')) end
local ref = redis.call('HINCRBY', KEYS[3], 'next_ref', 1)
redis.call('HSET', KEYS[1], ARGV[1], ref .. ' 0 0')
redis.call('HSET', KEYS[2], ref, ARGV[1])
return ref
"""
# KEYS: files, stats, file_terms. ARGV: file id, chunks, length, terms. Sets the file's
# counts and terms and moves the user's totals by the difference; 0 if the file is unknown.
_COMMIT = """
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then return 0 end
local ref, chunks, length = string.match(entry, '^(%d+) (%d+) (%d+)$')
redis.call('HSET', KEYS[1], ARGV[1], ref .. ' ' .. ARGV[2] .. ' ' .. ARGV[3])
redis.call('HINCRBY', KEYS[2], 'chunks', tonumber(ARGV[2]) - tonumber(chunks))
redis.call('HINCRBY', KEYS[2], 'length', tonumber(ARGV[3]) - tonumber(length))
redis.call('SET', KEYS[3], ARGV[4])
return 1
"""
# KEYS: files, refs, stats, file_terms. ARGV: file id. Forgets the file and its counts.
_FORGET = """
local entry = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[4])
if not entry then return 0 end
local ref, chunks, length = string.match(entry, '^(%d+) (%d+) (%d+)$')
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ref)
redis.call('HINCRBY', KEYS[3], 'chunks', -tonumber(chunks))
redis.call('HINCRBY', KEYS[3], 'length', -tonumber(length))
return 1
"""


class FullTextIndex:
    """Writes, removes and searches each user's chunk postings."""

    def __init__(self, client: redis.Redis) -> None:
        # Postings are binary: this client must not decode replies.
        self.client = client
        self._ref = client.register_script(_REF)
        self._commit = client.register_script(_COMMIT)
        self._forget = client.register_script(_FORGET)

    def replace(self, user_id: str, file_id: str, terms: FileTerms) -> None:
        """Make ``terms`` the file's whole contribution to the user's index."""
        ref = int(
            self._ref(
                keys=[
                    keys.fulltext_files(user_id),
                    keys.fulltext_refs(user_id),
                    keys.fulltext_stats(user_id),
                ],
                args=[file_id],
            )
        )
        terms_key = keys.fulltext_file_terms(user_id, file_id)
        old = self._file_terms(terms_key)
        new = set(terms.postings)
        if not new <= old:
            self.client.set(terms_key, _join(old | new))  # write-ahead
        lengths = terms.lengths
        pipe = self.client.pipeline(transaction=False)
        for n, (term, postings) in enumerate(terms.postings.items(), 1):
            records = np.array(
                [(ref, chunk, min(tf, _U16), min(lengths[chunk], _U16)) for chunk, tf in postings],
                dtype=RECORD,
            )
            pipe.hset(keys.fulltext_postings(user_id, term), str(ref), records.tobytes())
            if n % _BATCH == 0:
                pipe.execute()
        pipe.execute()
        self._remove_fields(user_id, ref, old - new)
        self._commit(
            keys=[keys.fulltext_files(user_id), keys.fulltext_stats(user_id), terms_key],
            args=[file_id, len(lengths), sum(lengths.values()), _join(new)],
        )

    def remove(self, user_id: str, file_id: str) -> None:
        """Remove the file's postings and counts (idempotent)."""
        files = keys.fulltext_files(user_id)
        terms_key = keys.fulltext_file_terms(user_id, file_id)
        entry = cast(bytes | None, self.client.hget(files, file_id))
        if entry is not None:
            ref = int(entry.split(b" ", 1)[0])
            self._remove_fields(user_id, ref, self._file_terms(terms_key))
        self._forget(
            keys=[files, keys.fulltext_refs(user_id), keys.fulltext_stats(user_id), terms_key],
            args=[file_id],
        )

    def count(self, user_id: str, file_id: str | None = None) -> int:
        """How many chunks the index holds for the user, or for one of the user's files."""
        if file_id is None:
            value = self.client.hget(keys.fulltext_stats(user_id), "chunks")
            return int(value or 0)
        entry = cast(bytes | None, self.client.hget(keys.fulltext_files(user_id), file_id))
        return int(entry.split(b" ")[1]) if entry else 0

    def postings_of(self, user_id: str, term: str) -> np.ndarray:
        """Every record of one term (for tests and diagnostics)."""
        values = self.client.hvals(keys.fulltext_postings(user_id, term))
        return np.frombuffer(b"".join(cast(list[bytes], values)), dtype=RECORD)

    def search(
        self,
        user_id: str,
        terms: Sequence[str],
        k: int,
        file_ids: Sequence[str] | None = None,
    ) -> list[Hit]:
        """The ``k`` chunks with the highest BM25 score for ``terms``, best first."""
        unique = list(dict.fromkeys(terms))
        if not unique or k <= 0 or (file_ids is not None and not file_ids):
            return []
        if len(unique) > MAX_QUERY_TERMS:
            unique = self._rarest(user_id, unique)
        pipe = self.client.pipeline(transaction=False)
        pipe.hmget(keys.fulltext_stats(user_id), ["chunks", "length"])
        for term in unique:
            pipe.hvals(keys.fulltext_postings(user_id, term))
        if file_ids is not None:
            pipe.hmget(keys.fulltext_files(user_id), list(file_ids))
        replies = pipe.execute()
        chunks, length = (int(v or 0) for v in replies[0])
        allowed = None
        if file_ids is not None:
            allowed = np.array(
                [int(entry.split(b" ", 1)[0]) for entry in replies[-1] if entry], dtype="<u4"
            )
            replies = replies[:-1]
        scored = [
            s
            for values in replies[1:]
            if (s := _bm25(_records(values), chunks, length, allowed)) is not None
        ]
        if not scored:
            return []
        ids = np.concatenate([s[0] for s in scored])
        scores = np.concatenate([s[1] for s in scored])
        if not len(ids):
            return []
        unique_ids, inverse = np.unique(ids, return_inverse=True)
        totals = np.bincount(inverse, weights=scores)
        # A few more than k: a file removed since its postings were read has no ref any more.
        take = min(len(totals), k + 8)
        best = np.argpartition(-totals, take - 1)[:take] if take < len(totals) else np.arange(take)
        best = best[np.lexsort((unique_ids[best], -totals[best]))]
        refs = sorted({int(unique_ids[i] >> 32) for i in best})
        values = cast(list[bytes | None], self.client.hmget(keys.fulltext_refs(user_id), refs))
        names = {ref: v.decode() for ref, v in zip(refs, values, strict=True) if v is not None}
        hits = []
        for i in best:
            ref, chunk = int(unique_ids[i] >> 32), int(unique_ids[i] & 0xFFFFFFFF)
            if ref in names:
                hits.append(Hit(names[ref], chunk, float(totals[i])))
        return hits[:k]

    def _rarest(self, user_id: str, terms: list[str]) -> list[str]:
        pipe = self.client.pipeline(transaction=False)
        for term in terms:
            pipe.hlen(keys.fulltext_postings(user_id, term))
        files = pipe.execute()
        present = [(n, i) for i, n in enumerate(files) if n]
        kept = sorted(i for _, i in sorted(present)[:MAX_QUERY_TERMS])
        return [terms[i] for i in kept]

    def _file_terms(self, key: str) -> set[str]:
        value = self.client.get(key)
        return set(cast(bytes, value).decode().split("\n")) - {""} if value else set()

    def _remove_fields(self, user_id: str, ref: int, terms: Iterable[str]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for n, term in enumerate(terms, 1):
            pipe.hdel(keys.fulltext_postings(user_id, term), str(ref))
            if n % _BATCH == 0:
                pipe.execute()
        pipe.execute()


def _records(values: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(values), dtype=RECORD)


def _bm25(
    records: np.ndarray, chunks: int, length: int, allowed: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray] | None:
    """Chunk keys (``ref << 32 | chunk``) and BM25 term scores of one term's postings."""
    df = len(records)
    if df == 0:
        return None
    n = max(chunks, df)  # the counts may lag a file being written
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    average = max(length / chunks, 1.0) if chunks else 1.0
    if allowed is not None:
        records = records[np.isin(records["ref"], allowed)]
    tf = records["tf"].astype(np.float64)
    norm = K1 * (1 - B + B * records["length"].astype(np.float64) / average)
    ids = (records["ref"].astype(np.uint64) << np.uint64(32)) | records["chunk"].astype(np.uint64)
    return ids, idf * tf * (K1 + 1) / (tf + norm)


def _join(terms: Iterable[str]) -> str:
    return "\n".join(sorted(terms))
