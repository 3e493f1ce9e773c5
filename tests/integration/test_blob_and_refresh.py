"""The blob cache format on real servers, and what each refresh layout costs, counted twice."""

from __future__ import annotations

import time

import pytest

from bench.cache.rankhist import RANK_HISTOGRAM_BINS, RankHistogram
from bench.cache.refresher import EVERY_FORMAT, CacheLayout, CacheRefresher
from bench.keys import Keys
from bench.probes.telemetry import TelemetrySampler
from bench.strategies import REGISTRY
from bench.topology.base import Topology
from bench.wire.merge import BLOB_RECORD_BYTES, BlobRanking

from .conftest import SHARDS
from .test_strategies import commands_per_read, refreshing
from .test_telemetry import deltas


def test_blob_read_is_exactly_one_getrange_on_the_cache_node(topology: Topology) -> None:
    refresher = CacheRefresher(topology, Keys(), REGISTRY["blob"].cache_layout())
    refresher.refresh()
    refresher.close()
    strategy = REGISTRY["blob"](topology, Keys())
    try:
        per_node = commands_per_read(topology, strategy, reads=50)
        # n records exactly, as one bulk string: what the client parses is one allocation.
        assert len(strategy.top(100)) == 100
        received = strategy.counter.bytes_received
        strategy.top(100)
        assert strategy.counter.bytes_received - received == len(b"$2000\r\n") + 100 * BLOB_RECORD_BYTES + 2
    finally:
        strategy.close()
    assert per_node == {**{f"shard-{i}": 0 for i in range(SHARDS)}, "cache": 50}


def test_blob_readers_never_see_a_missing_or_partial_blob_while_refreshing(topology: Topology) -> None:
    strategy = REGISTRY["blob"](topology, Keys())
    bad_reads, reads = 0, 0
    deadline = time.monotonic() + 2.0
    try:
        with refreshing(CacheRefresher(topology, Keys(), REGISTRY["blob"].cache_layout())) as refreshes:
            while time.monotonic() < deadline:
                got = strategy.top(1000)
                reads += 1
                if len(got) != 1000:
                    bad_reads += 1
    finally:
        strategy.close()
    assert refreshes[0] >= 10, "the refresher must actually overlap the reads"
    assert reads >= 100
    assert bad_reads == 0


@pytest.mark.parametrize(
    "layout",
    [CacheLayout(), CacheLayout(zset=False, blob=True), CacheLayout(rank_histogram=True), EVERY_FORMAT],
    ids=["zset", "blob", "zset+histogram", "every"],
)
def test_refresh_record_counts_what_redis_counts(topology: Topology, layout: CacheLayout) -> None:
    keys = Keys()
    refresher = CacheRefresher(topology, keys, layout)
    sampler = TelemetrySampler(topology, refresher.counters)
    sampler.sample()
    records = [refresher.refresh() for _ in range(2)]
    sampler.sample()
    refresher.close()
    for conn in sampler.connections:
        conn.disconnect()
    # Redis saw nothing but the refresher (and INFO): the refresher's own counts are exact...
    assert set(deltas(sampler, "workload_commands").values()) == {0}
    assert set(deltas(sampler, "workload_bytes_out").values()) == {0}
    assert set(deltas(sampler, "workload_bytes_in").values()) == {0}
    # ...and each record holds one refresh's share of them.
    assert sum(r.commands for r in records) == sum(deltas(sampler, "refresher_commands").values())
    assert sum(deltas(sampler, "commands").values()) - len(topology.nodes) == sum(r.commands for r in records)
    cache = topology.cache.client()
    try:
        data = cache.get(keys.cache_hist) if layout.rank_histogram else None
        bins = len(RankHistogram.from_bytes(data).bounds) if data else 0
    finally:
        cache.close()
    assert bins == (RANK_HISTOGRAM_BINS if layout.rank_histogram else 0)
    per_shard = 2 + bins if layout.rank_histogram else 1
    for record in records:
        assert record.ok
        assert record.commands == SHARDS * per_shard + layout.cache_commands
    assert deltas(sampler, "refresher_commands")["cache"] == 2 * layout.cache_commands
    if layout == CacheLayout(zset=False, blob=True):
        # The SET carries 1,000 records of 20 bytes; no ZADD of 1,000 members is sent.
        assert 1000 * BLOB_RECORD_BYTES < records[0].bytes_sent < 1000 * BLOB_RECORD_BYTES + 2_000
        assert CacheLayout().cache_commands == 5


def test_blob_ranking_decodes_only_when_rows_are_read(topology: Topology) -> None:
    refresher = CacheRefresher(topology, Keys(), REGISTRY["blob"].cache_layout())
    refresher.refresh()
    refresher.close()
    strategy = REGISTRY["blob"](topology, Keys())
    try:
        got = strategy.top(10)
    finally:
        strategy.close()
    assert isinstance(got, BlobRanking)
    assert len(got) == 10
    assert all(isinstance(member, bytes) and isinstance(score, float) for member, score in got.rows())
