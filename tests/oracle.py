"""Brute-force answers the tests check the harness against: every score, the true top n, error bounds."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator

import numpy as np
import numpy.typing as npt

from bench.cache.rankhist import RankHistogram
from bench.seeding.data import CHUNK_PLAYERS, lomax_scores
from bench.wire.merge import Row


def oracle_top(rows: Iterable[Row], n: int) -> list[Row]:
    """Brute-force top n over all (member, score) rows, in the order ZRANGE ... REV gives."""
    return heapq.nlargest(n, rows, key=lambda row: (row[1], row[0]))


def score_chunks(players: int, seed: int) -> Iterator[tuple[int, npt.NDArray[np.int64]]]:
    """``(first_player_id, scores)`` chunks drawn from one generator in id order: the reference."""
    rng = np.random.Generator(np.random.PCG64(seed))
    for start in range(0, players, CHUNK_PLAYERS):
        count = min(CHUNK_PLAYERS, players - start)
        yield start, lomax_scores(rng.random(count))


def all_scores(players: int, seed: int) -> npt.NDArray[np.int64]:
    """Every player's initial score, indexed by player id."""
    if not players:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([scores for _, scores in score_chunks(players, seed)])


def histogram_threshold(histogram: RankHistogram) -> float:
    """The top boundary: the cached 1000th score, above which the cache answers exactly."""
    return float(histogram.bounds[-1])


def bucket_players(histogram: RankHistogram, score: float) -> int | None:
    """Players between the boundaries around ``score``: the bound on ``count_above``'s error.

    None outside ``[lo, top]``: above ``top`` the cache answers exactly; below ``lo`` the histogram
    knows nothing (only a score lowered since the refresh lands there).
    """
    bounds, counts = histogram.bounds, histogram.counts
    if not bounds[0] <= score <= bounds[-1]:
        return None
    if len(bounds) == 1:
        return 0
    i = min(int(np.searchsorted(bounds, score, side="right")) - 1, len(bounds) - 2)
    return int(counts[i] - counts[i + 1])
