"""Failure policies on real servers: a stopped or killed shard or cache node, a cache come back empty."""

from __future__ import annotations

import csv
import heapq
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from bench.cache.refresher import CacheRefresher
from bench.keys import Keys
from bench.seeding.seed import seed
from bench.strategies import get_strategy
from bench.strategies.shards import true_top
from bench.topology import Endpoint, Topology, TopologyOptions, open_topology
from bench.wire.failure import NAIVE, PARTIAL, CacheEmptyError, FailurePolicy
from runfiles import read_json
from tests.integration.test_failures import LBBENCH, pid_listening_on, port_of

PLAYERS = 3_000
NAIVE_PARTIAL = FailurePolicy(naive_on_shard_error=PARTIAL)
CACHED_FALLBACK = FailurePolicy(cached_fallback=NAIVE)


@pytest.fixture
def topology(server_bin: str) -> Iterator[Topology]:
    """Three seeded shards and a primed cache, every command timing out after 200 ms."""
    options = TopologyOptions(shards=3, server_bin=server_bin, timeout_ms=200)
    with open_topology(options) as topology:
        seed(topology, Keys(), PLAYERS, 7)
        refresher = CacheRefresher(topology, Keys())
        try:
            refresher.refresh()
        finally:
            refresher.close()
        yield topology


@contextmanager
def stopped(endpoint: Endpoint) -> Iterator[None]:
    """The node's server SIGSTOPped: it accepts connections but answers nothing, until the block ends."""
    pid = pid_listening_on(port_of(endpoint))
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def top_of(endpoints: list[Endpoint], n: int) -> list[tuple[bytes, float]]:
    """The merged top n of these shards only, read with clients of the test's own."""
    rows = []
    for endpoint in endpoints:
        client = endpoint.client()
        try:
            rows.append(
                [(score, member) for member, score in client.zrevrange(Keys().prefix, 0, n - 1, True)]
            )
        finally:
            client.close()
    return [(member, score) for score, member in heapq.merge(*rows, reverse=True)][:n]


def full_top(topology: Topology, n: int) -> list[tuple[bytes, float]]:
    return [(member, score) for score, member in true_top(topology, Keys(), n)]


def test_naive_fail_raises_the_shards_timeout(topology: Topology) -> None:
    strategy = get_strategy("naive")(topology, Keys())
    try:
        with stopped(topology.shards[1]), pytest.raises(redis.TimeoutError):
            strategy.top(10)
        assert strategy.top(10).rows() == full_top(topology, 10)
    finally:
        strategy.close()


def test_naive_partial_answers_from_the_shards_that_answered_and_stays_in_step(topology: Topology) -> None:
    strategy = get_strategy("naive")(topology, Keys(), policy=NAIVE_PARTIAL)
    others = [topology.shards[0], topology.shards[2]]
    try:
        assert not strategy.top(10).partial
        with stopped(topology.shards[1]):
            first = strategy.top(10)
            assert first.partial
            assert first.missing == 1
            assert first.rows() == top_of(others, 10)
            # Another n on the same sockets: a reply left unread would come back as 10 rows, not 5.
            second = strategy.top(5)
            assert second.missing == 1
            assert second.rows() == top_of(others, 5)
        # The stalled shard's socket was dropped alone and reconnects: complete answers again.
        for n in (7, 3):
            again = strategy.top(n)
            assert again.missing == 0
            assert again.rows() == full_top(topology, n)
    finally:
        strategy.close()


def test_naive_partial_with_a_killed_shard_is_refused_not_a_wait(topology: Topology) -> None:
    strategy = get_strategy("naive")(topology, Keys(), policy=NAIVE_PARTIAL)
    fail = get_strategy("naive")(topology, Keys())
    try:
        expected = top_of(topology.shards[1:], 10)
        os.kill(pid_listening_on(port_of(topology.shards[0])), signal.SIGKILL)
        # The first request finds the old socket reset, the next one the port refused.
        for _ in range(2):
            ranking = strategy.top(10)
            assert ranking.missing == 1
            assert ranking.rows() == expected
            with pytest.raises(redis.ConnectionError):
                fail.top(10)
    finally:
        strategy.close()
        fail.close()


def test_naive_partial_with_every_shard_down_fails(topology: Topology) -> None:
    strategy = get_strategy("naive")(topology, Keys(), policy=NAIVE_PARTIAL)
    try:
        with (
            stopped(topology.shards[0]),
            stopped(topology.shards[1]),
            stopped(topology.shards[2]),
            pytest.raises(redis.TimeoutError),
        ):
            strategy.top(10)
        assert strategy.top(10).rows() == full_top(topology, 10)
    finally:
        strategy.close()


def test_cached_without_fallback_fails_on_a_stalled_or_empty_cache(topology: Topology) -> None:
    strategy = get_strategy("cached")(topology, Keys())
    try:
        with stopped(topology.cache), pytest.raises(redis.TimeoutError):
            strategy.top(10)
        cache = topology.cache.client()
        try:
            cache.delete(Keys().on(topology).cache)  # as after the cache node restarted empty
        finally:
            cache.close()
        with pytest.raises(CacheEmptyError, match="cache empty"):
            strategy.top(10)
        assert strategy.fallbacks == 0
    finally:
        strategy.close()


@pytest.mark.parametrize("strategy_name", ["cached", "blob"])
def test_cached_fallback_answers_from_the_shards_and_counts_it(
    topology: Topology, strategy_name: str
) -> None:
    if strategy_name == "blob":
        refresher = CacheRefresher(topology, Keys(), get_strategy("blob").cache_formats)
        try:
            refresher.refresh()
        finally:
            refresher.close()
    strategy = get_strategy(strategy_name)(topology, Keys(), policy=CACHED_FALLBACK)
    try:
        assert strategy.top(10).rows() == full_top(topology, 10)
        assert strategy.fallbacks == 0
        with stopped(topology.cache):
            assert strategy.top(10).rows() == full_top(topology, 10)
        assert strategy.fallbacks == 1
        cache = topology.cache.client()
        try:
            cache.flushall()  # the cache node came back empty
        finally:
            cache.close()
        assert strategy.top(10).rows() == full_top(topology, 10)
        assert strategy.fallbacks == 2
        # A fallback costs a scatter: one command per shard, on top of the failed cache read.
        before = strategy.counter.commands
        strategy.top(10)
        assert strategy.counter.commands - before == 1 + len(topology.shards)
    finally:
        strategy.close()


def test_refresher_keep_leaves_the_old_cache_and_partial_publishes_the_rest(topology: Topology) -> None:
    keys = Keys().on(topology)
    cache = topology.cache.client()
    keep = CacheRefresher(topology, Keys())
    partial = CacheRefresher(topology, Keys(), partial=True)
    try:
        cache.zadd(keys.cache, {"marker": 1e18})  # only a refresh that publishes removes it
        with stopped(topology.shards[2]):
            with pytest.raises(redis.TimeoutError):
                keep.refresh()
            assert cache.zscore(keys.cache, "marker") == 1e18
            record = partial.refresh()
        assert record.ok
        assert record.shards_missing == 1
        published = [(m, s) for m, s in cache.zrevrange(keys.cache, 0, 9, withscores=True)]
        assert published == top_of(topology.shards[:2], 10)
        # The next refresh with every shard back is complete again, on the same connections.
        again = partial.refresh()
        assert again.shards_missing == 0
        assert [(m, s) for m, s in cache.zrevrange(keys.cache, 0, 9, withscores=True)] == full_top(
            topology, 10
        )
        assert keep.refresh().shards_missing == 0
    finally:
        keep.close()
        partial.close()
        cache.close()


def test_compare_records_the_policies_and_the_new_counts(tmp_path: Path) -> None:
    out = tmp_path / "run"
    policies = ["--naive-on-shard-error", "partial", "--cached-fallback", "naive"]
    args = [
        "--players",
        "20000",
        "--duration",
        "3",
        "--users",
        "2",
        "--shards",
        "3",
        "--refresh-interval",
        "1",
    ]
    result = subprocess.run(
        [*LBBENCH, "compare", *args, *policies, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    options = read_json(out / "meta.json")["options"]
    assert (options["naive_on_shard_error"], options["cached_fallback"]) == ("partial", "naive")
    assert options["refresher_on_shard_error"] == "keep"
    for name in ("naive", "cached"):
        rows = [
            json.loads(line) for line in (out / "raw" / name / "intervals.jsonl").read_text().splitlines()
        ]
        assert rows
        assert all({"partial", "fallbacks", "error_kinds"} <= row.keys() for row in rows)
        assert sum(row["requests"] for row in rows) > 0
    with (out / "raw" / "cached" / "refreshes.csv").open() as refreshes:
        assert [row["shards_missing"] for row in csv.DictReader(refreshes)][:1] == ["0"]
    summary = read_json(out / "summary.json")
    assert summary["scenario"]["failure_policies"]["cached_fallback"] == "naive"
    for entry in summary["strategies"].values():
        assert (entry["partial"], entry["fallbacks"], entry["failures_by_kind"]) == (0, 0, {})
    assert (
        "Failure policies: --naive-on-shard-error partial, --cached-fallback naive"
        in (out / "report.md").read_text()
    )
