"""The seed's scenario projected from this run's per-request costs: the scale model in the report.

Scenario (the seed's): 100M players on 10 shards, 10,000 top-100 reads/s, one write per 1,000
reads. For each strategy, from what this run measured per request:

- Redis queries/s = commands/request x reads/s + commands/write x writes/s + refresher commands/s;
- network MB/s = (bytes out + bytes in)/request x reads/s (+ the refresher's bytes/s);
- Redis CPU cores, two bounds: *command time* = commandstats µs/request (time inside commands,
  a lower bound: it leaves out socket reads/writes) and *process CPU* = used_cpu_user+sys of every
  node per request (an upper bound: it includes idle servers' housekeeping);
- application CPU cores = load-generator CPU µs/request (a Python client; a compiled one costs less);
- RAM per shard = bytes/player x players / shards; the `global` strategy's node also holds every
  player once more;
- read nodes = the strategy's Redis reads/s / what one node served of its read command at p99 <= 1 ms
  (capacity.json, redis-benchmark), where the run has that probe.

Assumptions: costs per request do not change with players (sorted-set reads are O(log N + n)) or
with rate (no queueing: projections are of work, not of latency); reads are spread evenly over the
shards that serve them; network RTT, absent on loopback, adds latency but not work.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from analysis.fmt import num, ratio
from runfiles import is_setup_command

SCALE_PLAYERS = 100_000_000
SCALE_SHARDS = 10
SCALE_READS_PER_S = 10_000
SCALE_READ_WRITE_RATIO = 1000
#: The read command each strategy sends (the capacity probe's names: bench/probes/capacity.py).
STRATEGY_COMMAND = {"cached": "zset", "blob": "blob", "naive": "shard"}


def nodes_needed(reads_per_s: float, per_node: float | None) -> int | None:
    """Nodes to serve ``reads_per_s`` at ``per_node`` each (None without a capacity)."""
    return None if not per_node else math.ceil(reads_per_s / per_node)


def command_us_per_request(commandstats: pd.DataFrame, nodes: pd.DataFrame, attempts: int) -> float | None:
    """µs inside Redis commands per request, all nodes, the harness's share taken out.

    Per node: commandstats µs of every non-set-up command, scaled by workload commands / all
    non-set-up commands (the probe's and refresher's calls are counted, not timed, so they are
    assumed to cost what the node's average call costs).
    """
    if commandstats.empty or nodes.empty or attempts <= 0:
        return None
    total_us = 0.0
    for node, rows in commandstats.groupby("node", sort=False):
        work = rows[~rows["command"].map(is_setup_command)]
        first_t, last_t = work["t_s"].min(), work["t_s"].max()
        calls = (
            work.loc[work["t_s"] == last_t, "calls"].sum() - work.loc[work["t_s"] == first_t, "calls"].sum()
        )
        usec = work.loc[work["t_s"] == last_t, "usec"].sum() - work.loc[work["t_s"] == first_t, "usec"].sum()
        mine = nodes[nodes["node"] == node].sort_values("t_s")
        if calls <= 0 or mine.empty:
            continue
        workload = float(mine["workload_commands"].iloc[-1] - mine["workload_commands"].iloc[0])
        total_us += float(usec) * min(1.0, max(0.0, workload / float(calls)))
    return round(total_us / attempts, 2)


def _per_s(value: float | None, rate: float) -> float | None:
    return None if value is None else value * rate


def project(
    section: dict[str, Any], players: float | None, run_shards: float | None, node_rps: float | None = None
) -> dict[str, Any]:
    """One strategy's figures at the seed's scenario (None where this run lacks the input).

    Args:
        node_rps: what one node serves of this strategy's read command (capacity.json), if probed.
    """
    reads, writes = SCALE_READS_PER_S, SCALE_READS_PER_S / SCALE_READ_WRITE_RATIO
    refresher: dict[str, Any] | None = section.get("refresher")
    interval_s = num(refresher, "interval_s")
    refresh_cmds_per_s = ratio(num(refresher, "commands_per_refresh"), interval_s) or 0.0
    refresh_bytes_per_s = (
        ratio(
            (num(refresher, "bytes_out_per_refresh") or 0.0)
            + (num(refresher, "bytes_in_per_refresh") or 0.0),
            interval_s,
        )
        or 0.0
    )
    writes_section: dict[str, Any] | None = section.get("writes")
    write_cmds = num(writes_section, "commands_per_write")
    read_cmds = num(section, "redis_commands_per_request")
    queries = (
        None if read_cmds is None else read_cmds * reads + (write_cmds or 1.0) * writes + refresh_cmds_per_s
    )
    bytes_per_request = (num(section, "bytes_out_per_request") or 0.0) + (
        num(section, "bytes_in_per_request") or 0.0
    )
    memory: dict[str, Any] | None = section.get("memory")
    bytes_per_player = num(memory, "bytes_per_player")
    shard_ram = None if bytes_per_player is None else bytes_per_player * SCALE_PLAYERS / SCALE_SHARDS
    global_bytes = num(memory, "global_set_bytes")
    global_ram = None
    if global_bytes and players:
        global_ram = global_bytes / players * SCALE_PLAYERS
    return {
        "redis_queries_per_s": None if queries is None else round(queries),
        "network_mb_per_s": round((bytes_per_request * reads + refresh_bytes_per_s) / 1e6, 2),
        "redis_cores_command_time": _round(_per_s(num(section, "redis_command_us_per_request"), reads / 1e6)),
        "redis_cores_process_cpu": _round(_per_s(num(section, "redis_cpu_us_per_request"), reads / 1e6)),
        "app_cores": _round(_per_s(num(section, "client_cpu_us_per_request"), reads / 1e6)),
        "ram_per_shard_gb": _round(None if shard_ram is None else shard_ram / 1e9),
        "global_node_ram_gb": _round(None if global_ram is None else global_ram / 1e9),
        "read_nodes_at_capacity": None if read_cmds is None else nodes_needed(read_cmds * reads, node_rps),
        "measured_with_shards": run_shards,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def scale_model(summary: dict[str, Any]) -> dict[str, Any]:
    """summary.json ``scale_model``: the scenario and each strategy's projection."""
    scenario = summary.get("scenario") or {}
    strategies: dict[str, dict[str, Any]] = summary.get("strategies") or {}
    commands: dict[str, dict[str, Any]] = (summary.get("capacity") or {}).get("commands") or {}

    def node_rps(name: str) -> float | None:
        return num(commands.get(STRATEGY_COMMAND.get(name, "")), "rps_per_node")

    return {
        "scenario": {
            "players": SCALE_PLAYERS,
            "shards": SCALE_SHARDS,
            "reads_per_s": SCALE_READS_PER_S,
            "read_write_ratio": SCALE_READ_WRITE_RATIO,
        },
        "strategies": {
            name: project(section, num(scenario, "players"), num(scenario, "shards"), node_rps(name))
            for name, section in strategies.items()
        },
    }
