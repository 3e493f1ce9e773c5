"""`lbbench compare --cluster-url` on a cluster the user runs: it comes back exactly as it was.

The "hand-started" cluster is the project's own spawned one, opened in this process and kept up for
the test; the harness reaches it only through `--cluster-url` in a subprocess, as a user would. The
user's keys are written through redis-py's cluster client, and the cluster is judged by reading
every master directly: each key's DUMP and EXPIRETIME before and after.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster

from bench.topology import Topology, TopologyOptions, open_topology
from bench.topology.clusternodes import GLOBAL_TAG
from tests.browser import check_report

pytestmark = pytest.mark.slow

MASTERS = 3
LBBENCH = [sys.executable, "-m", "lbbench"]

# key -> (DUMP payload, EXPIRETIME): the value byte for byte and the absolute expiry (-1: none).
Snapshot = dict[bytes, tuple[bytes, int]]


@pytest.fixture
def cluster(server_bin: str) -> Iterator[Topology]:
    with open_topology(TopologyOptions(provider="cluster", shards=MASTERS, server_bin=server_bin)) as topo:
        yield topo


def lbbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LBBENCH, *args], capture_output=True, text=True, timeout=240, check=False)


def write_users_keys(cluster: Topology) -> None:
    """The user's own data: plain keys, a sorted set named like ours, and keys in our very slots.

    The last kind is one key per master in the slot of that master's shard key (and one in the
    global tag's slot): deleting by slot or by node, rather than by name, would take them too.
    """
    client = RedisCluster.from_url(cluster.shards[0].url)
    try:
        expire_at = int(time.time()) + 3600
        for i in range(50):
            client.set(f"user:{i}", f"value-{i}")
            if i % 5 == 0:
                client.expireat(f"user:{i}", expire_at + i)
        client.zadd("leaderboard-of-someone-else", {"alice": 3, "bob": 2, "carol": 1})
        client.expireat("leaderboard-of-someone-else", expire_at)
        for tag in [shard.key_tag for shard in cluster.shards] + [GLOBAL_TAG]:
            client.hset(f"users-{{{tag}}}-stats", mapping={"visits": 7, "tag": str(tag)})
    finally:
        client.close()


def snapshot(cluster: Topology) -> Snapshot:
    """Every key on every master, read from each master itself (SCAN sees only the node's own keys)."""
    keys: Snapshot = {}
    for shard in cluster.shards:
        client = redis.Redis.from_url(shard.url)
        try:
            for key in client.scan_iter(count=1000):
                assert key not in keys, f"{key!r} on two masters"
                dump = client.dump(key)
                assert isinstance(dump, bytes)
                keys[key] = (dump, int(client.execute_command("EXPIRETIME", key)))
        finally:
            client.close()
    return keys


def harness_keys(keys: Snapshot) -> list[bytes]:
    return sorted(k for k in keys if k.startswith((b"leaderboard:", b"leaderboard{")) or k == b"leaderboard")


def cluster_url(cluster: Topology) -> str:
    return cluster.shards[1].url  # any master is a seed; not the first, to be sure discovery is used


def test_compare_on_a_users_cluster_removes_only_its_keys(cluster: Topology, tmp_path: Path) -> None:
    write_users_keys(cluster)
    before = snapshot(cluster)
    assert len(before) == 50 + 1 + MASTERS + 1
    assert any(expiry > 0 for _, expiry in before.values())
    assert harness_keys(before) == []

    out = tmp_path / "run"
    result = lbbench(
        "compare",
        "--cluster-url",
        cluster_url(cluster),
        "--players",
        "20000",
        "--duration",
        "3",
        "--users",
        "4",
        "--refresh-interval",
        "1",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr

    strategies = json.loads((out / "summary.json").read_text())["strategies"]
    # Naive asks every master; requests cut off by the stop may have reached some: allow 1% over.
    assert MASTERS <= strategies["naive"]["redis_commands_per_request"] <= MASTERS * 1.01
    assert 1.0 <= strategies["cached"]["redis_commands_per_request"] <= 1.01
    assert strategies["naive"]["nodes_per_request"] == MASTERS
    assert strategies["cached"]["nodes_per_request"] == 1
    for name, strategy in strategies.items():
        assert strategy["failures"] == 0, name
        assert strategy["cross_check"]["agree"] is True, (name, strategy["cross_check"])
    topology = json.loads((out / "meta.json").read_text())["topology"]
    assert topology["provider"] == "external-cluster"
    slot_map = topology["cluster"]["slot_map"]
    assert [entry["node"] for entry in slot_map] == [f"shard-{i}" for i in range(MASTERS)]
    assert [entry["url"] for entry in slot_map] == [shard.url for shard in cluster.shards]

    page = check_report(out / "report.html", "cluster-run", min_images=4)
    assert "Redis Cluster" in page.text

    # The cluster is as it was: the same keys, values and expiry times, and nothing of ours left.
    assert snapshot(cluster) == before
    for shard in cluster.shards:
        client = redis.Redis.from_url(shard.url)
        assert "cluster_state:ok" in client.execute_command("CLUSTER", "INFO").decode()
        client.close()


def test_compare_refuses_a_cluster_holding_harness_keys_and_touches_nothing(cluster: Topology) -> None:
    write_users_keys(cluster)
    seeded = lbbench("seed", "--cluster-url", cluster_url(cluster), "--players", "1000")
    assert seeded.returncode == 0, seeded.stderr
    before = snapshot(cluster)
    assert len(harness_keys(before)) == MASTERS  # one leaderboard per master, tagged for it

    result = lbbench("compare", "--cluster-url", cluster_url(cluster), "--players", "1000", "--duration", "1")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("lbbench: error: shard-0:leaderboard:{")
    assert "already exists; pass --overwrite" in lines[0]
    assert snapshot(cluster) == before
