"""Merging per-shard replies, and the seeded population."""

from __future__ import annotations

import random

import numpy as np
import redis

from bench.seeding.loading import encode_zadd
from bench.wire.merge import Ranking, merge_top
from tests.oracle import all_scores, oracle_top, score_chunks


def flat(rows: list[tuple[bytes, float]]) -> list[bytes]:
    """RESP2 shape of a ZRANGE ... WITHSCORES reply: member, score, member, score, ..."""
    out: list[bytes] = []
    for member, score in rows:
        out += [member, repr(score).encode()]
    return out


def shard_replies(rows: list[tuple[bytes, float]], shards: int, n: int) -> list[list[bytes]]:
    """What each shard's ZRANGE 0 n-1 REV WITHSCORES would return."""
    per_shard: list[list[tuple[bytes, float]]] = [[] for _ in range(shards)]
    for i, row in enumerate(rows):
        per_shard[i % shards].append(row)
    return [flat(oracle_top(part, n)) for part in per_shard]


def test_merge_equals_oracle_with_many_ties() -> None:
    rng = random.Random(3)
    rows = [(f"p{i}".encode(), float(rng.randint(0, 50))) for i in range(5000)]
    for n in (1, 10, 100, 1000):
        merged = Ranking(scored=merge_top(shard_replies(rows, 10, n), n))
        assert merged.rows() == oracle_top(rows, n)


def test_merge_equals_oracle_when_the_top_sits_in_a_few_shards_of_uneven_sizes() -> None:
    # The merge reads every shard's first rows, then past them only rows at or above the n-th best
    # of those: a shard holding most of the top must be read deep, short and empty shards not at all.
    rng = random.Random(7)
    for shards in (1, 3, 10, 50):
        for n in (1, 7, 100, 333):
            per_shard = []
            for shard in range(shards):
                size = rng.choice((0, 1, 5, n, 3 * n))
                bonus = 1000.0 if shard == 0 else 0.0  # shard 0 holds the top
                rows = [(f"s{shard}p{i}".encode(), bonus + rng.randint(0, 20)) for i in range(size)]
                per_shard.append(rows)
            replies = [flat(oracle_top(part, n)) for part in per_shard]
            expected = oracle_top([row for part in per_shard for row in part], n)
            assert Ranking(scored=merge_top(iter(replies), n)).rows() == expected, (shards, n)


def test_ties_are_ordered_by_member_bytes_descending() -> None:
    replies = [[b"a", b"5", b"z", b"1"], [b"b", b"5"], [b"c", b"7"]]
    assert merge_top(replies, 4) == [(7.0, b"c"), (5.0, b"b"), (5.0, b"a"), (1.0, b"z")]


def test_merge_returns_fewer_rows_when_shards_hold_fewer() -> None:
    assert merge_top([[b"x", b"1.5"], []], 100) == [(1.5, b"x")]


def test_ranking_decodes_either_shape_the_same() -> None:
    rows = [(b"b", 9.0), (b"a", 2.5)]
    assert Ranking(flat=flat(rows)).rows() == rows
    assert Ranking(scored=[(9.0, b"b"), (2.5, b"a")]).rows() == rows
    assert len(Ranking(flat=flat(rows))) == 2


def test_scores_are_deterministic_and_seed_dependent() -> None:
    assert np.array_equal(all_scores(10_000, 1), all_scores(10_000, 1))
    assert not np.array_equal(all_scores(10_000, 1), all_scores(10_000, 2))


def test_scores_are_long_tailed_integers() -> None:
    scores = all_scores(200_000, 42)
    assert scores.dtype == np.int64
    assert scores.min() >= 0
    median, p999 = np.percentile(scores, [50, 99.9])
    # Heavy tail: the top 0.1% sits orders of magnitude above the median.
    assert p999 > 50 * median


def test_chunks_cover_every_id_once() -> None:
    chunks = list(score_chunks(2_500_001, 5))
    assert [start for start, _ in chunks] == [0, 1_000_000, 2_000_000]
    assert sum(len(s) for _, s in chunks) == 2_500_001


def test_encode_zadd_matches_redis_py_packing() -> None:
    scores = np.array([0, 12, 345678901], dtype=np.int64)
    members = np.array([7, 0, 1234567], dtype=np.int64)
    ours = encode_zadd(b"leaderboard", scores, members)
    args: list[object] = ["ZADD", "leaderboard"]
    for score, member in zip(scores.tolist(), members.tolist(), strict=True):
        args += [str(score), str(member)]
    theirs = b"".join(redis.Connection().pack_command(*args))
    assert ours == theirs
