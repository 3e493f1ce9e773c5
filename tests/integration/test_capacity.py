"""`lbbench capacity` and the probe on spawned servers: a tiny sweep, its recorded fields, teardown."""

from __future__ import annotations

import json
from pathlib import Path

from bench.keys import Keys
from bench.probes.capacity import P99_LIMIT_MS, probe
from bench.topology import Topology
from tests.integration.test_cli import lbbench

COMMANDS = {"zset", "blob", "shard"}
POINT_FIELDS = {
    "clients",
    "requests",
    "rps",
    "latency_ms_p50",
    "latency_ms_p99",
    "client_cpu_s",
    "server_cpu_s",
}


def check_recorded(found: dict[str, object], shards_key_entries: int | None = None) -> None:
    assert found["available"] is True
    assert str(found["tool"]).startswith("redis-benchmark")
    assert str(found["server"]).split()[0] in {"redis-server", "valkey-server"}
    assert found["machine"]["cpu_count"] >= 1  # type: ignore[index]
    commands = found["commands"]
    assert isinstance(commands, dict)
    assert set(commands) == COMMANDS
    assert commands["zset"]["command"] == "ZRANGE leaderboard:global:cache 0 99 REV WITHSCORES"
    assert commands["blob"]["command"] == "GETRANGE leaderboard:global:cache:blob 0 1999"
    assert commands["shard"]["command"] == "ZRANGE leaderboard 0 99 REV WITHSCORES"
    assert commands["zset"]["key_entries"] == commands["blob"]["key_entries"] == 1000
    if shards_key_entries is not None:
        assert commands["shard"]["key_entries"] == shards_key_entries
    for entry in commands.values():
        assert entry["points"], entry
        for point in entry["points"]:
            assert point.keys() >= POINT_FIELDS
            assert point["rps"] > 0
            assert point["client_cpu_s"] > 0
            assert point["server_cpu_s"] > 0
        best = entry["capacity"]
        if best is None:
            assert entry["reason"]
        else:
            assert best["latency_ms_p99"] <= P99_LIMIT_MS
            assert best["rps"] == max(
                p["rps"] for p in entry["points"] if p["latency_ms_p99"] <= P99_LIMIT_MS
            )


def test_probe_records_every_read_command(topology: Topology, redis_benchmark: tuple[str, ...]) -> None:
    del redis_benchmark
    found = probe(topology, Keys(), budget_s=3.0)
    shard_players = topology.shards[0].client().zcard(Keys().shard_on(topology.shards[0]))
    check_recorded(found, int(shard_players))


def test_capacity_command_writes_capacity_json(tmp_path: Path, redis_benchmark: tuple[str, ...]) -> None:
    del redis_benchmark
    out = tmp_path / "cap"
    result = lbbench("capacity", "--players", "5000", "--shards", "2", "--budget", "3", "--out", str(out))
    assert result.returncode == 0, result.stderr
    check_recorded(json.loads((out / "capacity.json").read_text()))
    assert "req/s per node" in result.stdout
    assert "Naive at the seed's peak" in result.stdout


def test_capacity_refuses_a_non_empty_out(tmp_path: Path, redis_benchmark: tuple[str, ...]) -> None:
    del redis_benchmark
    (tmp_path / "taken").write_text("x")
    result = lbbench("capacity", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "--out names a directory that is not empty" in result.stderr
