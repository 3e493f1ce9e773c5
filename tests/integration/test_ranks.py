"""A player's global rank: regional's approximation from the cache against the exact rank, and its cost."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analysis.figures.rank import rank_section
from bench.cache.formats import CACHE_TOP_N, RANK_HISTOGRAM
from bench.cache.rankhist import RankHistogram
from bench.cache.refresher import CacheRefresher
from bench.errors import RunError
from bench.keys import Keys
from bench.probes.rankcheck import rank_check, sample_players, top_players
from bench.strategies import REGISTRY
from bench.topology import Topology
from runfiles import RANK_FIELDS, RunFiles, write_json
from tests.oracle import bucket_players, histogram_threshold

from .conftest import PLAYERS, SEED, SHARDS
from .test_strategies import all_rows, calls


def refresh_for(topology: Topology, name: str) -> None:
    """Refresh what strategy ``name`` reads from the cache (nothing for a strategy without one)."""
    if not REGISTRY[name].cache_formats:
        return
    refresher = CacheRefresher(topology, Keys(), REGISTRY[name].cache_formats)
    refresher.refresh()
    refresher.close()


def cached_histogram(topology: Topology) -> RankHistogram:
    cache = topology.cache.client()
    try:
        data = cache.get(RANK_HISTOGRAM.key(Keys()))
    finally:
        cache.close()
    assert data is not None
    return RankHistogram.from_bytes(data)


def test_regional_rank_is_exact_in_the_cached_top_and_bucket_bounded_below(topology: Topology) -> None:
    refresh_for(topology, "regional")
    histogram = cached_histogram(topology)
    by_player = {int(m): s for m, s in all_rows(topology)}
    scores = np.sort(np.array(list(by_player.values())))
    top = top_players(topology, Keys(), 2 * CACHE_TOP_N)
    rng = np.random.default_rng(3)
    players = top[:50] + top[CACHE_TOP_N - 25 : CACHE_TOP_N + 25] + rng.choice(PLAYERS, 400).tolist()
    strategy = REGISTRY["regional"](topology, Keys())
    inexact = 0
    try:
        for player in players:
            score = by_player[player]
            exact = 1 + len(scores) - int(np.searchsorted(scores, score, side="right"))
            got = strategy.rank(player)
            assert got is not None
            if score >= histogram_threshold(histogram):
                # In the cached top 1000, right after a refresh: exact.
                assert got == exact, player
            else:
                # Bound (bench/cache/rankhist.py): the true and the interpolated count above the score both
                # lie between the counts at the bucket's two boundaries, so they differ by at most
                # the players in that bucket; no write has happened since the refresh.
                bound = bucket_players(histogram, score)
                assert bound is not None
                assert abs(got - exact) <= bound, (player, got, exact, bound)
                inexact += got != exact
        assert strategy.rank(PLAYERS + 5) is None
    finally:
        strategy.close()
    assert inexact > 0, "players below the cached top must exercise the interpolation"


def test_regional_rank_costs_three_commands_on_two_nodes_and_one_get_per_refresh(topology: Topology) -> None:
    refresh_for(topology, "regional")
    strategy = REGISTRY["regional"](topology, Keys())
    try:
        strategy.rank(1)  # connections and the client-side histogram
        before = {e.name: calls(e) for e in topology.nodes}
        for player in range(20):
            strategy.rank(player)
        refresh_for(topology, "regional")
        strategy.rank(20)  # a new refresh: the histogram is fetched once more
        after = {e.name: calls(e) for e in topology.nodes}
    finally:
        strategy.close()

    def delta(node: str, command: str) -> int:
        return after[node].get(command, 0) - before[node].get(command, 0)

    assert sum(delta(f"shard-{i}", "zscore") for i in range(SHARDS)) == 21
    assert delta("cache", "zcount") == 21
    assert delta("cache", "hget") == 21
    assert delta("cache", "get") == 1


def test_regional_rank_without_a_histogram_says_how_to_get_one(topology: Topology) -> None:
    refresh_for(topology, "cached")
    cache = topology.cache.client()
    cache.delete(RANK_HISTOGRAM.key(Keys()))
    cache.close()
    strategy = REGISTRY["regional"](topology, Keys())
    try:
        with pytest.raises(RunError, match="no rank histogram"):
            strategy.rank(3)
    finally:
        strategy.close()


def test_sample_is_deterministic_and_covers_the_top() -> None:
    top = list(range(10_000, 20_000))
    sample = sample_players(1_000_000, 42, top)
    assert sample == sample_players(1_000_000, 42, top)
    assert sample != sample_players(1_000_000, 43, top)
    assert len(set(sample)) == len(sample)
    assert sample[900:][:3] == [10_000, 10_001, 10_002]  # ranks 1, 2, 3 of the top
    assert sample[-1] == 19_999
    assert 950 < len(sample) <= 1000
    assert sorted(sample_players(5, 1, [])) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("name", ["naive", "regional"])
def test_rank_check_records_error_and_cost(topology: Topology, name: str, tmp_path: Path) -> None:
    refresh_for(topology, name)
    files = RunFiles(tmp_path).phase(name)
    files.dir.mkdir(parents=True)
    write_json(files.rank, rank_check(topology, Keys(), name, PLAYERS, SEED))
    record = json.loads(files.rank.read_text())
    assert tuple(record) == RANK_FIELDS
    assert record == rank_check(topology, Keys(), name, PLAYERS, SEED) | {"query_us": record["query_us"]}
    section = rank_section(tmp_path, name)
    assert section is not None
    assert section["queries"] == len(record["players"]) > 900
    assert section["unanswered"] == 0
    if name == "naive":
        assert section["rank_is_exact"]
        assert section["commands_per_query"] == 1 + SHARDS
        assert section["share_exact"] == 1.0
        assert section["rank_error_abs_max"] == 0
    else:
        assert not section["rank_is_exact"]
        assert section["commands_per_query"] == 3
        assert 0 < section["share_exact"] < 1
        assert section["rank_error_rel_p50"] < 0.05
    assert section["query_us_p50"] > 0
