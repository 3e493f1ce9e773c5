"""--provider cluster and --cluster-url on real valkey cluster nodes, checked by the servers themselves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.exceptions import MovedError

from bench.probes.telemetry import TelemetrySampler
from bench.serverbinary import find_server_binary
from bench.topology import Topology, TopologyOptions, open_topology
from bench.topology.clusternodes import GLOBAL_TAG
from bench.topology.processes import LocalServers
from bench.wire.counting import ByteCounter
from tests.helpers import alive, reaped, started_processes

MASTERS = 3


def text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def cluster_nodes(client: redis.Redis) -> list[list[str]]:
    """CLUSTER NODES as the server says it, one split line per node."""
    return [line.split() for line in text(client.execute_command("CLUSTER", "NODES")).splitlines()]


def owns(client: redis.Redis, slot: int) -> bool:
    """Whether the node ``client`` talks to owns ``slot``, by its own CLUSTER NODES line."""
    me = next(fields for fields in cluster_nodes(client) if "myself" in fields[2])
    for spec in me[8:]:
        lo, _, hi = spec.partition("-")
        if int(lo) <= slot <= int(hi or lo):
            return True
    return False


def keyslot(client: redis.Redis, key: str) -> int:
    return int(client.execute_command("CLUSTER", "KEYSLOT", key))


@pytest.fixture(scope="module")
def cluster(server_bin: str) -> Iterator[Topology]:
    options = TopologyOptions(provider="cluster", shards=MASTERS, replicas=1, server_bin=server_bin)
    with open_topology(options) as topo:
        yield topo


def test_the_slot_map_covers_every_slot_once(cluster: Topology) -> None:
    slot_map = cluster.describe()["cluster"]["slot_map"]
    assert [entry["node"] for entry in slot_map] == [f"shard-{i}" for i in range(MASTERS)]
    assert cluster.describe()["cluster"]["require_full_coverage"] is False
    assert cluster.describe()["cluster"]["allow_reads_when_down"] is True
    covered = sorted(slot for e in slot_map for lo, hi in e["slots"] for slot in range(lo, hi + 1))
    assert covered == list(range(16384))
    client = cluster.shards[0].client()
    info = text(client.execute_command("CLUSTER", "INFO"))
    client.close()
    assert "cluster_state:ok" in info
    assert "cluster_slots_assigned:16384" in info


def test_each_shard_owns_its_tag_and_takes_tagged_writes_without_moved(cluster: Topology) -> None:
    clients = [shard.client() for shard in cluster.shards]
    try:
        for i, (shard, client) in enumerate(zip(cluster.shards, clients, strict=True)):
            assert shard.key_tag
            assert owns(client, keyslot(client, f"{{{shard.key_tag}}}:x"))
            assert client.set(f"{{{shard.key_tag}}}:probe", "1")  # a plain connection, no MOVED
            other = cluster.shards[(i + 1) % MASTERS].key_tag
            with pytest.raises(MovedError):
                client.set(f"{{{other}}}:probe", "1")
    finally:
        for shard, client in zip(cluster.shards, clients, strict=True):
            client.delete(f"{{{shard.key_tag}}}:probe")
            client.close()


def test_the_cache_is_the_master_owning_the_global_tag(cluster: Topology) -> None:
    assert cluster.global_tag == GLOBAL_TAG
    client = cluster.cache.client()
    try:
        assert owns(client, keyslot(client, f"{{{GLOBAL_TAG}}}:cache"))
        assert client.set(f"{{{GLOBAL_TAG}}}:probe", "1")
        client.delete(f"{{{GLOBAL_TAG}}}:probe")
    finally:
        client.close()
    home = cluster.describe()["cluster"]["cache_node"]
    assert next(s.url for s in cluster.shards if s.name == home) == cluster.cache.url
    # One server per URL: telemetry samples the cache's server once, as a shard that is also the cache.
    assert len(cluster.servers) == MASTERS
    assert sorted(cluster.aliases(cluster.cache)) == sorted([home, "cache"])


def test_each_master_has_its_replica(cluster: Topology) -> None:
    client = cluster.shards[0].client()
    nodes = cluster_nodes(client)
    client.close()
    masters = {fields[0] for fields in nodes if "master" in fields[2]}
    replicas = [fields for fields in nodes if "slave" in fields[2]]
    assert len(masters) == MASTERS
    assert len(replicas) == MASTERS
    assert sorted(fields[3] for fields in replicas) == sorted(masters)
    for entry in cluster.describe()["cluster"]["slot_map"]:
        assert len(entry["replicas"]) == 1


def test_the_load_config_carries_the_tags(cluster: Topology) -> None:
    view = Topology.from_load_config(cluster.to_load_config())
    assert [s.key_tag for s in view.shards] == [s.key_tag for s in cluster.shards]
    assert view.global_tag == GLOBAL_TAG
    assert view.cache.url == cluster.cache.url


def test_cluster_url_discovers_the_same_masters_and_leaves_the_cluster_running(cluster: Topology) -> None:
    pids = started_processes()
    with open_topology(TopologyOptions(cluster_urls=(cluster.shards[2].url,))) as found:
        assert found.provider == "external-cluster"
        assert not found.owns_data
        assert [(s.url, s.key_tag) for s in found.shards] == [(s.url, s.key_tag) for s in cluster.shards]
        assert found.cache.url == cluster.cache.url
        described, spawned = found.describe()["cluster"], cluster.describe()["cluster"]
        assert described["slot_map"] == spawned["slot_map"], (described["slot_map"], spawned["slot_map"])
        assert described == spawned, (described, spawned)
    assert alive(pids) == pids
    client = cluster.shards[0].client()
    assert "cluster_state:ok" in text(client.execute_command("CLUSTER", "INFO"))
    client.close()


def test_teardown_leaves_no_node_and_no_config_file(
    server_bin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    before = started_processes()
    with open_topology(TopologyOptions(provider="cluster", shards=2, server_bin=server_bin)) as topo:
        pids = started_processes() - before
        assert len(pids) == 2
        assert list(tmp_path.rglob("nodes.conf")) != []
        assert len(topo.shards) == 2
    assert alive(pids) == set()
    assert list(tmp_path.iterdir()) == [], "the work dir with every nodes.conf is gone"


def lbbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lbbench", *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["top", "--provider", "cluster", "--replicas", "9"], "--replicas must be between 0 and 5, got 9"),
        (["top", "--cluster-url", "http://x"], "bad Redis URL 'http://x'"),
        (["top", "--replicas", "1"], "--replicas applies to --provider cluster, not local"),
    ],
)
def test_bad_cluster_flags_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = lbbench(*args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"lbbench: error: {message}")


def test_a_cluster_url_to_a_plain_server_is_one_line_and_exit_2() -> None:
    servers = LocalServers(find_server_binary(), ["plain"])
    (plain,) = servers.start()
    try:
        result = lbbench("top", "--cluster-url", plain.url)
    finally:
        servers.stop()
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{plain.url} is not a cluster node" in lines[0]


def test_telemetry_samples_each_server_once_and_subtracts_the_cache_names_traffic(cluster: Topology) -> None:
    counter = ByteCounter()
    conn = cluster.cache.connection(counter)
    sampler = TelemetrySampler(cluster, others=[{"cache": counter}])
    sampler.sample()
    for _ in range(25):
        conn.send_command("GET", f"{{{GLOBAL_TAG}}}:nothing")
        conn.read_response()
        counter.commands += 1  # callers count their commands (bench/wire/link.py); bytes count themselves
    sampler.sample()
    conn.disconnect()
    for c in sampler.connections:
        c.disconnect()
    assert len(sampler.node_rows) == 2 * MASTERS
    assert {row["node"] for row in sampler.node_rows} == {s.name for s in cluster.shards}
    first = {row["node"]: row for row in sampler.node_rows[:MASTERS]}
    last = {row["node"]: row for row in sampler.node_rows[MASTERS:]}
    for node, row in last.items():
        for column in ("workload_commands", "workload_bytes_in", "workload_bytes_out"):
            assert row[column] - first[node][column] == 0, (node, column)


CHILD = """
import time, psutil
from bench.threads import install_teardown_handlers
from bench.topology import TopologyOptions, open_topology
install_teardown_handlers()
with open_topology(TopologyOptions(provider="cluster", shards=2, replicas=1)) as topo:
    print(" ".join(str(c.pid) for c in psutil.Process().children()), flush=True)
    time.sleep(600)
"""


def test_ctrl_c_stops_every_node_and_removes_the_work_dir(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True, env=env)
    with reaped(child):
        assert child.stdout is not None
        pids = {int(p) for p in child.stdout.readline().split()}
        assert len(pids) == 4
        os.kill(child.pid, signal.SIGINT)
        child.wait(timeout=20)
    deadline = time.monotonic() + 10
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert alive(pids) == set()
    assert list(tmp_path.iterdir()) == []
