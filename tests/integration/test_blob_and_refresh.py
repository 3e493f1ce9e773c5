"""The blob cache format on real servers, and what each refresh layout costs, counted twice."""

from __future__ import annotations

import time

import pytest

from bench.cache.formats import BLOB, FORMATS, RANK_HISTOGRAM, SORTED_SET, CacheFormat
from bench.cache.formats.blob import BLOB_RECORD_BYTES, BlobRanking
from bench.cache.rankhist import RANK_HISTOGRAM_BINS, RankHistogram
from bench.cache.refresher import CacheRefresher
from bench.keys import Keys
from bench.probes.telemetry import TelemetrySampler
from bench.strategies import REGISTRY
from bench.topology import Topology

from .conftest import SHARDS
from .test_strategies import commands_per_read, refreshing
from .test_telemetry import deltas


def test_blob_read_is_exactly_one_getrange_on_the_cache_node(topology: Topology) -> None:
    refresher = CacheRefresher(topology, Keys(), REGISTRY["blob"].cache_formats)
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
        with refreshing(CacheRefresher(topology, Keys(), REGISTRY["blob"].cache_formats)) as refreshes:
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
    ("formats", "cache_commands"),
    [((SORTED_SET,), 5), ((BLOB,), 4), ((SORTED_SET, RANK_HISTOGRAM), 6), (tuple(FORMATS.values()), 7)],
    ids=["zset", "blob", "zset+histogram", "every"],
)
def test_refresh_record_counts_what_redis_counts(
    topology: Topology, formats: tuple[CacheFormat, ...], cache_commands: int
) -> None:
    keys = Keys()
    histogram = RANK_HISTOGRAM in formats
    refresher = CacheRefresher(topology, keys, formats)
    sampler = TelemetrySampler(topology, refresher=refresher.counters)
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
        data = cache.get(RANK_HISTOGRAM.key(keys)) if histogram else None
        bins = len(RankHistogram.from_bytes(data).bounds) if data else 0
    finally:
        cache.close()
    assert bins == (RANK_HISTOGRAM_BINS if histogram else 0)
    per_shard = 2 + bins if histogram else 1
    for record in records:
        assert record.ok
        assert record.commands == SHARDS * per_shard + cache_commands
    assert deltas(sampler, "refresher_commands")["cache"] == 2 * cache_commands
    if formats == (BLOB,):
        # The SET carries 1,000 records of 20 bytes; no ZADD of 1,000 members is sent.
        assert 1000 * BLOB_RECORD_BYTES < records[0].bytes_sent < 1000 * BLOB_RECORD_BYTES + 2_000


def test_blob_ranking_decodes_only_when_rows_are_read(topology: Topology) -> None:
    refresher = CacheRefresher(topology, Keys(), REGISTRY["blob"].cache_formats)
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
