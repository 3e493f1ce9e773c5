"""The blob cache format, the rank histogram's interpolation and what each refresh layout writes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.cache.formats import BLOB, FORMATS, RANK_HISTOGRAM, SORTED_SET, CacheFormat, Snapshot
from bench.cache.formats.blob import BLOB_MEMBER_BYTES, BLOB_RECORD_BYTES, BlobRanking, pack_blob
from bench.cache.rankhist import RANK_HISTOGRAM_BINS, RankHistogram, boundaries
from bench.errors import RunError
from bench.keys import Keys
from bench.strategies import REGISTRY
from bench.wire.merge import Ranking
from tests.oracle import bucket_players, histogram_threshold

ROWS = [(3.0e8, b"123456"), (2.5, b"999999999999"), (2.5, b"0"), (-1.0, b"42")]


def test_blob_round_trips_members_and_scores_exactly() -> None:
    blob = pack_blob(ROWS)
    assert len(blob) == len(ROWS) * BLOB_RECORD_BYTES == len(ROWS) * (8 + BLOB_MEMBER_BYTES)
    ranking = BlobRanking(blob)
    assert isinstance(ranking, Ranking)
    assert len(ranking) == len(ROWS)
    assert ranking.rows() == [(member, score) for score, member in ROWS]
    # A prefix of whole records is the top n: what GETRANGE 0 n*W-1 returns.
    assert BlobRanking(blob[: 2 * BLOB_RECORD_BYTES]).rows() == [(b"123456", 3.0e8), (b"999999999999", 2.5)]
    assert BlobRanking(b"").rows() == []


def test_blob_scores_are_big_endian_float64_then_the_padded_member() -> None:
    record = pack_blob([(1.0, b"7")])
    assert record[:8] == b"\x3f\xf0" + b"\0" * 6
    assert record[8:] == b"7" + b"\0" * (BLOB_MEMBER_BYTES - 1)


@pytest.mark.parametrize("member", [b"1" * (BLOB_MEMBER_BYTES + 1), b"12\x0034", b"7\x00"])
def test_blob_refuses_members_it_cannot_round_trip(member: bytes) -> None:
    with pytest.raises(RunError, match="blob cache format"):
        pack_blob([(1.0, b"1"), (0.5, member)])


def test_boundaries_are_log_spaced_from_lowest_to_cached_last_score() -> None:
    bounds = boundaries(0.0, 99_999.0, 6)
    assert bounds.tolist() == pytest.approx([0, 9, 99, 999, 9_999, 99_999])
    assert bounds[0] == 0.0
    assert bounds[-1] == 99_999.0
    assert len(boundaries(5.0, 5.0)) == 1  # every score equal: one boundary
    assert np.all(np.diff(boundaries(10.0, 2e8)) > 0)
    assert len(boundaries(10.0, 2e8)) == RANK_HISTOGRAM_BINS


def power_law_histogram() -> RankHistogram:
    """Counts above x follow 10**6 * (x + 1) ** -1: the log-log interpolation is exact on it."""
    bounds = boundaries(0.0, 999_999.0, 7)
    counts = np.rint(1e6 / (bounds + 1.0)).astype(np.int64)
    return RankHistogram(1.5, 1000, bounds, counts)


def test_interpolation_is_exact_at_boundaries_and_for_a_power_law() -> None:
    hist = power_law_histogram()
    for bound, count in zip(hist.bounds.tolist(), hist.counts.tolist(), strict=True):
        assert hist.count_above(bound) == count
    for score in (3.0, 41.0, 500.0, 77_777.0, 654_321.0):
        # Rounded to a whole player; log(1 + C) instead of log(C) is off by well under one player.
        assert hist.count_above(score) == pytest.approx(1e6 / (score + 1.0), rel=1e-3, abs=1)


def test_interpolation_stays_inside_the_bucket_and_clamps_outside() -> None:
    bounds = np.array([0.0, 10.0, 100.0, 1000.0])
    counts = np.array([50_000, 20_000, 3_000, 999], dtype=np.int64)
    hist = RankHistogram(0.0, 1000, bounds, counts)
    previous = math.inf
    for score in np.linspace(0.0, 1000.0, 500).tolist():
        got = hist.count_above(score)
        i = min(int(np.searchsorted(bounds, score, side="right")) - 1, 2)
        assert counts[i + 1] <= got <= counts[i]
        assert got <= previous  # monotone: a higher score never ranks worse
        previous = got
    assert bucket_players(hist, 50.0) == 17_000
    assert bucket_players(hist, 1000.0) == 3_000 - 999
    assert bucket_players(hist, -1.0) is None
    assert bucket_players(hist, 1e6) is None
    assert hist.count_above(-5.0) == 50_000
    assert hist.count_above(1e9) == 999
    assert histogram_threshold(hist) == 1000.0


def test_histogram_bytes_round_trip() -> None:
    hist = power_law_histogram()
    again = RankHistogram.from_bytes(hist.to_bytes())
    assert again.refreshed_at_s == 1.5
    assert again.cache_entries == 1000
    assert again.bounds.tolist() == hist.bounds.tolist()
    assert again.counts.tolist() == hist.counts.tolist()
    assert len(hist.to_bytes()) == 8 * 3 + 16 * len(hist.bounds)


def cache_commands(formats: tuple[CacheFormat, ...]) -> int:
    """Commands one refresh sends to the cache node: MULTI, what each format writes, HSET meta, EXEC."""
    rows = [(float(1000 - i), str(i).encode()) for i in range(1000)]
    snapshot = Snapshot(
        rows,
        1.5,
        gather=lambda commands: [[5] * len(commands("a")), [7] * len(commands("b"))],
        extra={RANK_HISTOGRAM.name: [[[b"0", b"0"]], [[b"1", b"0"]]]},
    )
    return 3 + sum(len(f.refresh_commands(Keys(), snapshot)) for f in formats)


def test_each_strategy_refresh_writes_only_what_it_reads() -> None:
    layouts = {name: cls.cache_formats for name, cls in REGISTRY.items() if cls.needs_refresher}
    assert layouts == {
        "cached": (SORTED_SET,),
        "incremental": (SORTED_SET,),
        "regional": (SORTED_SET, RANK_HISTOGRAM),
        "blob": (BLOB,),
    }
    assert cache_commands((SORTED_SET,)) == 5
    assert cache_commands((BLOB,)) == 4
    assert cache_commands((SORTED_SET, RANK_HISTOGRAM)) == 6
    assert cache_commands(tuple(FORMATS.values())) == 7


def test_only_regional_ranks_approximately() -> None:
    assert {name for name, cls in REGISTRY.items() if not cls.rank_is_exact} == {"regional"}
    assert all((RANK_HISTOGRAM in cls.cache_formats) == (not cls.rank_is_exact) for cls in REGISTRY.values())
