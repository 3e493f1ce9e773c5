"""The staleness probe against real servers: fresh right after a refresh, stale after a write, fresh again."""

from __future__ import annotations

from bench.cache.refresher import CacheRefresher
from bench.keys import Keys
from bench.probes.staleness import StalenessProbe
from bench.run.writemodel import hot_players
from bench.strategies.naive import NaiveStrategy
from bench.topology import Topology


def test_probe_sees_a_write_the_cache_has_not_caught_up_with(topology: Topology) -> None:
    keys = Keys()
    refresher = CacheRefresher(topology, keys)
    probe = StalenessProbe(topology, keys, "cached", top_n=100)
    naive = NaiveStrategy(topology, keys)
    try:
        refresher.refresh()
        probe.sample()
        # The 150th player jumps to first place: the cached top 100 lacks it and everyone shifts by one.
        player, _ = hot_players(topology, keys, 150)[-1]
        leader_score = naive.top(1).rows()[0][1]
        naive.submit(player, leader_score + 1)
        probe.sample()
        refresher.refresh()
        probe.sample()
    finally:
        naive.close()
        probe.close()
        refresher.close()
    fresh, stale, refreshed = probe.rows
    assert (fresh["entries_differ"], fresh["max_rank_displacement"], fresh["error"]) == (0, 0, "")
    assert stale["entries_differ"] == 1
    assert stale["missing_from_cache"] == 0  # rank 150 is still inside the cached top 1000
    assert stale["max_rank_displacement"] == 149
    assert stale["cache_age_s"] >= fresh["cache_age_s"]
    assert (refreshed["entries_differ"], refreshed["max_rank_displacement"]) == (0, 0)
    assert refreshed["cache_age_s"] < 1.0


def test_hot_players_are_the_true_top(topology: Topology) -> None:
    keys = Keys()
    naive = NaiveStrategy(topology, keys)
    try:
        expected = [(int(member), score) for member, score in naive.top(50).rows()]
    finally:
        naive.close()
    assert hot_players(topology, keys, 50) == expected
