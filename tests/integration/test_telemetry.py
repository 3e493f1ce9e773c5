"""The sampler's subtraction of its own and the refresher's traffic is exact."""

from __future__ import annotations

import time

from bench.cache.refresher import CacheRefresher, RefresherThread
from bench.keys import Keys
from bench.probes.telemetry import TelemetrySampler
from bench.topology import Topology
from bench.wire.counting import ByteCounter


def steps(sampler: TelemetrySampler, column: str) -> list[int]:
    """Every sample-to-sample change of ``column``, all nodes."""
    last: dict[str, int] = {}
    out = []
    for row in sampler.node_rows:
        if row["node"] in last:
            out.append(row[column] - last[row["node"]])
        last[row["node"]] = row[column]
    return out


def deltas(sampler: TelemetrySampler, column: str) -> dict[str, int]:
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for row in sampler.node_rows:
        first.setdefault(row["node"], row[column])
        last[row["node"]] = row[column]
    return {node: last[node] - first[node] for node in last}


def test_idle_nodes_show_zero_workload_across_samples(topology: Topology) -> None:
    sampler = TelemetrySampler(topology)
    for _ in range(5):
        sampler.sample()
    for conn in sampler.connections:
        conn.disconnect()
    for column in ("workload_commands", "workload_bytes_in", "workload_bytes_out"):
        assert set(deltas(sampler, column).values()) == {0}, column
    # ...while the raw counters did move: the subtraction is doing the work.
    assert all(v > 0 for v in deltas(sampler, "bytes_out").values())


def test_workload_bytes_equal_what_the_client_counted(topology: Topology) -> None:
    counter = ByteCounter()
    conn = topology.shards[3].connection(counter)
    sampler = TelemetrySampler(topology)
    sampler.sample()
    sent0, received0 = counter.bytes_sent, counter.bytes_received
    for _ in range(25):
        conn.send_command("ZRANGE", Keys().shard_on(topology.shards[3]), 0, 99, "REV", "WITHSCORES")
        conn.read_response()
    sampler.sample()
    conn.disconnect()
    for c in sampler.connections:
        c.disconnect()
    assert deltas(sampler, "workload_commands")["shard-3"] == 25
    assert deltas(sampler, "workload_bytes_out")["shard-3"] == counter.bytes_received - received0
    assert deltas(sampler, "workload_bytes_in")["shard-3"] == counter.bytes_sent - sent0
    assert deltas(sampler, "workload_commands")["shard-4"] == 0


def test_refresher_traffic_is_subtracted(topology: Topology) -> None:
    refresher = CacheRefresher(topology, Keys())
    sampler = TelemetrySampler(topology, refresher=refresher.counters)
    sampler.sample()
    records = [refresher.refresh() for _ in range(3)]
    sampler.sample()
    refresher.close()
    for c in sampler.connections:
        c.disconnect()
    assert set(deltas(sampler, "workload_commands").values()) == {0}
    assert set(deltas(sampler, "workload_bytes_out").values()) == {0}
    assert set(deltas(sampler, "workload_bytes_in").values()) == {0}
    # 10 shard reads + MULTI/ZADD/RENAME/HSET/EXEC per refresh, as Redis counted them.
    assert deltas(sampler, "refresher_commands")["cache"] == 15
    assert sum(r.commands for r in records) == 3 * 15
    assert sum(deltas(sampler, "commands").values()) - 11 * 1 == 45  # minus one INFO per node


def test_samples_taken_during_back_to_back_refreshes_show_no_workload(topology: Topology) -> None:
    # Without the refresher's lock, 8-20% of the per-node steps here moved (3 runs): a refresh caught
    # mid-flight had its bytes subtracted before Redis counted them, a step down, then the step up.
    refresher = CacheRefresher(topology, Keys())
    thread = RefresherThread(refresher, interval_s=0.001)
    sampler = TelemetrySampler(topology, refresher=refresher.counters, refresher_busy=thread.busy)
    thread.start()
    try:
        deadline_s = time.perf_counter() + 20
        while len(thread.records) < 30 and time.perf_counter() < deadline_s:
            sampler.sample()
            time.sleep(0.002)  # lets the refresher's thread run; samples still land inside refreshes
    finally:
        thread.stop()
        refresher.close()
        for c in sampler.connections:
            c.disconnect()
    assert len(thread.records) >= 30
    assert all(record.ok for record in thread.records)
    for column in ("workload_commands", "workload_bytes_in", "workload_bytes_out"):
        assert set(steps(sampler, column)) == {0}, column
