"""A Redis Cluster moving a slot under the harness: MOVED and ASK are followed and counted, never failed.

The slot is moved the way ``redis-cli --cluster reshard`` does it: IMPORTING on the target,
MIGRATING on the source, MIGRATE of the slot's keys, then SETSLOT NODE everywhere. Between the
MIGRATE and the SETSLOT a read at the source gets ASK; after it, MOVED.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from analysis.figures.sections import CROSS_CHECK_TOLERANCE
from bench.keys import Keys
from bench.topology import Endpoint, Topology, TopologyOptions, open_topology
from bench.wire.counting import ByteCounter
from bench.wire.link import NodeLink
from bench.wire.scatter import Scatter

pytestmark = pytest.mark.slow

LBBENCH = [sys.executable, "-m", "lbbench"]
KEYS = Keys()
# Long enough that reads at 200 req/s certainly meet the ASK window, short against the phase.
ASK_WINDOW_S = 0.3


@pytest.fixture
def cluster(server_bin: str) -> Iterator[Topology]:
    with open_topology(TopologyOptions(provider="cluster", shards=3, server_bin=server_bin)) as topo:
        yield topo


def _port(endpoint: Endpoint) -> int:
    return int(endpoint.url.rsplit(":", 1)[1])


def _id(client: redis.Redis) -> str:
    node_id = client.execute_command("CLUSTER", "MYID")
    return node_id.decode() if isinstance(node_id, bytes) else str(node_id)


def start_move(cluster: Topology, slot: int, source: Endpoint, target: Endpoint) -> int:
    """Put ``slot`` in migration and MIGRATE its keys: the source now answers ASK for them.

    Returns:
        The commands this ran that Redis counts as workload (set-up commands excluded).
    """
    src, dst = source.client(), target.client()
    try:
        dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", _id(src))
        src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", _id(dst))
        keys = src.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 1000)
        if keys:
            src.execute_command("MIGRATE", "127.0.0.1", _port(target), "", 0, 10_000, "KEYS", *keys)
    finally:
        src.close()
        dst.close()
    # Two MYIDs, two SETSLOTs, GETKEYSINSLOT; then MIGRATE and, on the target, a RESTORE-ASKING a key.
    return 5 + (1 + len(keys) if keys else 0)


def finish_move(cluster: Topology, slot: int, target: Endpoint) -> int:
    """Give ``slot`` to ``target`` on every master: reads elsewhere now get MOVED.

    Returns:
        The commands this ran that Redis counts as workload.
    """
    clients = [shard.client() for shard in cluster.shards]
    try:
        target_id = _id(clients[cluster.shards.index(target)])
        # The target first, then the others, as redis-cli does; each bumps its epoch and gossips.
        for _, client in sorted(zip(cluster.shards, clients, strict=True), key=lambda p: p[0] != target):
            client.execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)
    finally:
        for client in clients:
            client.close()
    return 1 + len(clients)


def move(cluster: Topology, slot: int, source: Endpoint, target: Endpoint) -> int:
    """Move ``slot`` with an ASK window between; returns the workload commands it ran."""
    ran = start_move(cluster, slot, source, target)
    time.sleep(ASK_WINDOW_S)
    return ran + finish_move(cluster, slot, target)


def slot_of(cluster: Topology, key: str) -> int:
    client = cluster.shards[0].client()
    try:
        return int(client.execute_command("CLUSTER", "KEYSLOT", key))
    finally:
        client.close()


def calls(cluster: Topology, *commands: str) -> int:
    """Executed calls of these commands on every master (rejected ones, redirected, do not count)."""
    total = 0
    for shard in cluster.shards:
        client = shard.client()
        stats = client.info("commandstats")
        total += sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in commands)
        client.close()
    return total


def test_scatter_follows_ask_then_moved_and_counts_what_redis_counts(cluster: Topology) -> None:
    a, b, _ = cluster.shards
    key_a, key_b = KEYS.shard_on(a), KEYS.shard_on(b)
    for endpoint, key in ((a, key_a), (b, key_b)):
        client = endpoint.client()
        client.zadd(key, {f"p{i}": i for i in range(10)})
        client.close()
    counter = ByteCounter()
    scatter = Scatter([a.connection(counter), b.connection(counter)], counter)
    packed = scatter.pack_each([key_a, key_b], lambda key: ("ZCARD", key))
    slot = slot_of(cluster, key_a)
    try:
        assert scatter.gather_each(packed) == [10, 10]
        start_move(cluster, slot, a, b)
        before = calls(cluster, "zcard", "asking")
        sent = counter.commands
        # The key left A: A says ASK, the read goes to B behind ASKING; the connection stays on A.
        assert scatter.gather_each(packed) == [10, 10]
        assert counter.redirects == 1
        assert scatter.connections[0].port == _port(a)
        finish_move(cluster, slot, b)
        # The slot is B's now: MOVED, and the connection itself moves to B for good.
        assert scatter.gather_each(packed) == [10, 10]
        assert counter.redirects == 2
        assert scatter.connections[0].port == _port(b)
        assert scatter.gather_each(packed) == [10, 10]
        assert counter.redirects == 2
        assert counter.commands - sent == calls(cluster, "zcard", "asking") - before
    finally:
        scatter.disconnect()


def test_a_pipeline_on_a_moved_slot_is_sent_again_whole(cluster: Topology) -> None:
    a, b, _ = cluster.shards
    key = KEYS.shard_on(a)
    client = a.client()
    client.zadd(key, {"p": 1.0})
    client.close()
    counter = ByteCounter()
    link = NodeLink(a.connection(counter), counter)
    move(cluster, slot_of(cluster, key), a, b)
    try:
        # On A, MULTI runs, ZCARD gets MOVED and EXEC aborts: all of it is sent again to B.
        assert link.call_many(("MULTI",), ("ZCARD", key), ("EXEC",)) == [b"OK", b"QUEUED", [1]]
        assert link.call("ZSCORE", key, "p") == b"1"
        assert counter.redirects == 1
    finally:
        link.close()


def _reshard_during_phases(
    cluster: Topology, process: subprocess.Popen[str], moves: dict[str, int], lines: list[str]
) -> None:
    """At each phase's start (its status line), move that strategy's slot away and back, mid-load.

    ``moves`` gets, per strategy, the workload commands the moving itself ran on the masters.
    """
    cache_key = KEYS.on(cluster).cache
    slots = {
        "naive": slot_of(cluster, KEYS.shard_on(cluster.shards[1])),
        "cached": slot_of(cluster, cache_key),
    }
    assert process.stderr is not None
    for line in process.stderr:
        lines.append(line)
        strategy = next((name for name in slots if f"lbbench {name}: " in line and "users" in line), None)
        if strategy is None:
            continue
        time.sleep(2.0)  # Locust starts and the load runs
        home = slot_owner(cluster, slots[strategy])
        away = next(shard for shard in cluster.shards if shard != home)
        ran = 1 + move(cluster, slots[strategy], home, away)  # 1: slot_owner's CLUSTER SLOTS
        time.sleep(1.0)
        moves[strategy] = ran + move(cluster, slots[strategy], away, home)


def slot_owner(cluster: Topology, slot: int) -> Endpoint:
    client = cluster.shards[0].client()
    try:
        for lo, hi, master, *_ in client.execute_command("CLUSTER", "SLOTS"):
            if lo <= slot <= hi:
                port = int(master[1])
                return next(s for s in cluster.shards if _port(s) == port)
    finally:
        client.close()
    raise AssertionError(f"no master owns slot {slot}")


def test_a_compare_across_a_resharding_follows_every_redirect_and_fails_no_read(
    cluster: Topology, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    args = ["compare", "--cluster-url", cluster.shards[0].url, "--strategies", "naive,cached"]
    args += ["--players", "30000", "--duration", "6", "--rps", "200", "--refresh-interval", "1"]
    lines: list[str] = []
    process = subprocess.Popen(
        [*LBBENCH, *args, "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    moves: dict[str, int] = {}
    # The mover reads the status lines (stderr, which it so drains) until lbbench exits.
    mover = threading.Thread(target=_reshard_during_phases, args=(cluster, process, moves, lines))
    mover.start()
    try:
        process.wait(timeout=240)
    finally:
        if process.poll() is None:
            process.kill()
        mover.join(timeout=30)
    assert process.returncode == 0, "".join(lines[-20:])
    assert list(moves) == ["naive", "cached"]

    strategies = json.loads((out / "summary.json").read_text())["strategies"]
    for name in ("naive", "cached"):
        entry = strategies[name]
        assert entry["failures"] == 0, (name, entry.get("errors"))
        # Each of the users' connections to the moved slot met at least one MOVED, away and back.
        assert entry["redirects_per_request"] > 0, name
        # Redis counts the reads plus the moving's own SETSLOTs and MIGRATEs (about 2% of a phase's
        # 1200 reads, so they get their own allowance); bytes in are not compared: a MIGRATE
        # carries the moved set to its new master as Redis input.
        client_commands = entry["client_commands_per_request"] * entry["requests"]
        allowed = 1.0 + CROSS_CHECK_TOLERANCE + moves[name] / client_commands
        assert 1.0 <= entry["cross_check"]["commands"] <= allowed, (name, moves[name], entry["cross_check"])
    report = (out / "report.md").read_text()
    assert "Slots moved under the load" in report
