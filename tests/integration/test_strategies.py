"""Strategies against real servers: oracle equality and exact Redis command counts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bench.cache.formats import CACHE_TOP_N
from bench.cache.refresher import CacheRefresher
from bench.keys import Keys
from bench.strategies import REGISTRY, Strategy
from bench.topology import Endpoint, Topology
from tests.oracle import oracle_top

from .conftest import PLAYERS, SEED, SHARDS


def all_rows(topology: Topology) -> list[tuple[bytes, float]]:
    """Every (member, score) on every shard, read back from Redis."""
    rows: list[tuple[bytes, float]] = []
    for endpoint in topology.shards:
        client = endpoint.client()
        rows += [(m, s) for m, s in client.zrange(Keys().shard_on(endpoint), 0, -1, withscores=True)]
        client.close()
    return rows


def test_seeded_population_matches_the_generator(topology: Topology) -> None:
    from tests.oracle import all_scores

    scores = all_scores(PLAYERS, SEED)
    rows = all_rows(topology)
    assert len(rows) == PLAYERS
    assert {int(m): s for m, s in rows} == {i: float(s) for i, s in enumerate(scores)}  # type: ignore[call-overload]


@pytest.mark.parametrize("n", [1, 100, 1000])
def test_naive_top_equals_brute_force_oracle(topology: Topology, n: int) -> None:
    strategy = REGISTRY["naive"](topology, Keys())
    try:
        got = strategy.top(n)
    finally:
        strategy.close()
    assert got.rows() == oracle_top(all_rows(topology), n)
    assert len(got) == n


@pytest.mark.parametrize("name", ["cached", "blob"])
@pytest.mark.parametrize("n", [1, 100, CACHE_TOP_N])
def test_cached_top_equals_oracle_after_refresh(topology: Topology, name: str, n: int) -> None:
    refresher = CacheRefresher(topology, Keys(), REGISTRY[name].cache_formats)
    record = refresher.refresh()
    refresher.close()
    assert record.entries == CACHE_TOP_N
    strategy = REGISTRY[name](topology, Keys())
    try:
        got = strategy.top(n)
    finally:
        strategy.close()
    # Row for row: the same member bytes and the same float scores as the brute-force oracle.
    assert got.rows() == oracle_top(all_rows(topology), n)
    assert len(got) == n


def test_ties_follow_redis_rev_order(topology: Topology) -> None:
    # Two extra members with the same top score on different shards: the bigger member wins.
    keys = Keys()
    top_score = 10.0**10
    shard_a, shard_b = topology.shards[0].client(), topology.shards[1].client()
    try:
        shard_a.zadd(keys.shard_on(topology.shards[0]), {"tie-a": top_score})
        shard_b.zadd(keys.shard_on(topology.shards[1]), {"tie-b": top_score})
        strategy = REGISTRY["naive"](topology, keys)
        got = strategy.top(2)
        strategy.close()
        assert [m for m, _ in got.rows()] == [b"tie-b", b"tie-a"]
    finally:
        shard_a.zrem(keys.shard_on(topology.shards[0]), "tie-a")
        shard_b.zrem(keys.shard_on(topology.shards[1]), "tie-b")
        shard_a.close()
        shard_b.close()


def calls(endpoint: Endpoint) -> dict[str, int]:
    client = endpoint.client()
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


def commands_per_read(topology: Topology, strategy: Strategy, reads: int) -> dict[str, int]:
    """Workload commands per node (excluding INFO and HELLO) over ``reads`` page views (``read(100)``)."""
    strategy.top(100)  # connections are already up; this warms any lazy state
    before = {e.name: calls(e) for e in topology.nodes}
    for _ in range(reads):
        strategy.read(100)
    after = {e.name: calls(e) for e in topology.nodes}
    ignored = {"info", "hello"}
    return {
        node: sum(v - before[node].get(cmd, 0) for cmd, v in after[node].items() if cmd not in ignored)
        for node in after
    }


def test_cached_read_is_exactly_one_command_on_the_cache_node(topology: Topology) -> None:
    refresher = CacheRefresher(topology, Keys())
    refresher.refresh()
    refresher.close()
    strategy = REGISTRY["cached"](topology, Keys())
    try:
        per_node = commands_per_read(topology, strategy, reads=50)
    finally:
        strategy.close()
    assert per_node == {**{f"shard-{i}": 0 for i in range(SHARDS)}, "cache": 50}


def test_naive_read_is_exactly_one_command_per_shard(topology: Topology) -> None:
    strategy = REGISTRY["naive"](topology, Keys())
    try:
        per_node = commands_per_read(topology, strategy, reads=50)
    finally:
        strategy.close()
    assert per_node == {**{f"shard-{i}": 50 for i in range(SHARDS)}, "cache": 0}


@contextmanager
def refreshing(refresher: CacheRefresher) -> Iterator[list[int]]:
    """Refresh back to back in a thread while the block reads; yields [refreshes so far]; closes it."""
    refresher.refresh()
    stop = threading.Event()
    refreshes = [0]

    def refresh_loop() -> None:
        while not stop.is_set():
            refresher.refresh()
            refreshes[0] += 1

    thread = threading.Thread(target=refresh_loop)
    thread.start()
    try:
        yield refreshes
    finally:
        stop.set()
        thread.join()
        refresher.close()


def test_readers_never_see_a_missing_or_partial_cache_while_refreshing(topology: Topology) -> None:
    keys = Keys()
    cache = topology.cache.client()
    bad_reads, reads = 0, 0
    deadline = time.monotonic() + 3.0
    try:
        with refreshing(CacheRefresher(topology, keys)) as refreshes:
            while time.monotonic() < deadline:
                size = cache.zcard(keys.cache)
                rows = cache.zrange(keys.cache, 0, 99, desc=True, withscores=True)
                reads += 1
                if size != CACHE_TOP_N or len(rows) != 100:
                    bad_reads += 1
    finally:
        cache.close()
    assert refreshes[0] >= 20, "the refresher must actually overlap the reads"
    assert reads >= 200
    assert bad_reads == 0
    leftovers = topology.cache.client().keys(keys.cache_tmp("*"))
    assert leftovers == []


def competition_rank(scores: list[float], score: float) -> int:
    """1 + the number of players with a strictly higher score."""
    return 1 + sum(1 for s in scores if s > score)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_strategy_top_equals_the_oracle(topology: Topology, name: str) -> None:
    if REGISTRY[name].needs_refresher:
        refresher = CacheRefresher(topology, Keys(), REGISTRY[name].cache_formats)
        refresher.refresh()
        refresher.close()
    strategy = REGISTRY[name](topology, Keys())
    try:
        assert strategy.top(100).rows() == oracle_top(all_rows(topology), 100)
    finally:
        strategy.close()


# Approximate ranks (regional) have their own bounded-error test in test_ranks.py; a unit test
# pins which strategies those are, so none drops out of this list unnoticed.
@pytest.mark.parametrize("name", [name for name, cls in REGISTRY.items() if cls.rank_is_exact])
def test_rank_is_exact(topology: Topology, name: str) -> None:
    scores = [s for _, s in all_rows(topology)]
    by_player = {int(m): s for m, s in all_rows(topology)}
    best = max(by_player, key=lambda p: by_player[p])
    players = [best, 0, 1, 17, PLAYERS // 2, PLAYERS - 1]
    strategy = REGISTRY[name](topology, Keys())
    try:
        for player in players:
            assert strategy.rank(player) == competition_rank(scores, by_player[player]), player
        assert strategy.rank(best) == 1
        assert strategy.rank(PLAYERS + 5) is None
    finally:
        strategy.close()


def test_global_submit_writes_to_shard_and_global_set_alike(topology: Topology) -> None:
    keys = Keys()
    global_strategy = REGISTRY["global"](topology, keys)
    naive = REGISTRY["naive"](topology, keys)
    player, delta = 4321, 10.0**9
    before = global_strategy.shards.score(player)
    assert before is not None
    try:
        assert global_strategy.submit(player, delta) == before + delta
        # Now the best player, seen alike by the shards (naive) and the global set.
        assert naive.rank(player) == global_strategy.rank(player) == 1
        assert naive.top(1).rows() == global_strategy.top(1).rows() == [(b"4321", before + delta)]
        assert global_strategy.submit(player, -delta) == before
        scores = [s for _, s in all_rows(topology)]
        assert naive.rank(player) == global_strategy.rank(player) == competition_rank(scores, before)
    finally:
        # Leave the module's data as seeded even if an assertion failed half-way.
        link, key = naive.shards.owner(player)
        link.call("ZADD", key, before, str(player))
        cache = topology.cache.client()
        cache.zadd(keys.global_set, {str(player): before})
        cache.close()
        global_strategy.close()
        naive.close()


def test_global_read_is_one_command_on_the_cache_node(topology: Topology) -> None:
    strategy = REGISTRY["global"](topology, Keys())
    try:
        per_node = commands_per_read(topology, strategy, reads=50)
    finally:
        strategy.close()
    assert per_node == {**{f"shard-{i}": 0 for i in range(SHARDS)}, "cache": 50}


def test_incremental_writes_reach_the_cached_top_at_once(topology: Topology) -> None:
    keys = Keys()
    refresher = CacheRefresher(topology, keys)
    refresher.refresh()
    incremental = REGISTRY["incremental"](topology, keys)
    player, delta = 777, 10.0**9
    before = incremental.shards.score(player)
    assert before is not None
    try:
        new_score = incremental.submit(player, delta)
        assert incremental.top(1).rows() == [(b"777", new_score)]
        # The cache holds exactly the true top 1000 again, without a refresh.
        client = topology.cache.client()
        assert client.zcard(keys.cache) == CACHE_TOP_N
        client.close()
        assert incremental.top(100).rows() == oracle_top(all_rows(topology), 100)
        # A write below the cached 1000th score leaves the cache alone.
        lowest = incremental.top(CACHE_TOP_N).rows()[-1][1]
        low_player = next(int(m) for m, s in all_rows(topology) if s < lowest - 2)
        incremental.submit(low_player, 1.0)
        assert incremental.top(100).rows() == oracle_top(all_rows(topology), 100)
        assert all(m != str(low_player).encode() for m, _ in incremental.top(CACHE_TOP_N).rows())
        incremental.submit(low_player, -1.0)
    finally:
        link, key = incremental.shards.owner(player)
        link.call("ZADD", key, before, str(player))
        refresher.refresh()
        refresher.close()
        incremental.close()


def test_incremental_read_is_one_command_on_the_cache_node(topology: Topology) -> None:
    refresher = CacheRefresher(topology, Keys())
    refresher.refresh()
    refresher.close()
    strategy = REGISTRY["incremental"](topology, Keys())
    try:
        per_node = commands_per_read(topology, strategy, reads=50)
    finally:
        strategy.close()
    assert per_node == {**{f"shard-{i}": 0 for i in range(SHARDS)}, "cache": 50}


def test_regional_page_view_is_its_region_live_plus_the_cached_global_top(topology: Topology) -> None:
    refresher = CacheRefresher(topology, Keys())
    refresher.refresh()
    refresher.close()
    strategy = REGISTRY["regional"](topology, Keys())
    try:
        for region, endpoint in enumerate(topology.shards[:3]):
            client = endpoint.client()
            own = [(m, s) for m, s in client.zrange(Keys().shard_on(endpoint), 0, -1, withscores=True)]
            client.close()
            assert strategy.regional_top(region, 20).rows() == oracle_top(own, 20)
        assert strategy.read(100).rows() == oracle_top(all_rows(topology), 100)
        # Ten page views visit each of ten regions once: one command per region, ten on the cache.
        per_node = commands_per_read(topology, strategy, reads=10 * SHARDS)
    finally:
        strategy.close()
    assert per_node == {**{f"shard-{i}": 10 for i in range(SHARDS)}, "cache": 10 * SHARDS}
