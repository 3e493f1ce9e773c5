"""Per-node capacity from capacity.json (redis-benchmark), and what it says about the seed's scale.

Per node: the highest throughput a compiled client got from one node with p99 at or below 1 ms. On a
box where client and server share the cores, that is a lower bound. Per core: requests / the node's
CPU seconds over the same point (INFO used_cpu_user + sys), what one server core fully busy serves.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from analysis.figures.target import SEED
from analysis.fmt import num, ratio
from runfiles import RunFiles, read_json

SEED_RPS = int(SEED.rps)
SEED_SHARDS = SEED.shards
SEED_SHARD_READS_PER_S = SEED_RPS * SEED_SHARDS  # "10k x 10 shard queries = 100k queries/sec"
HEADROOM_PNG = "headroom.png"  # analysis/render/costplots.py draws it
COMMAND_LABELS = {"zset": "cached (sorted set)", "blob": "blob", "shard": "naive (one shard's read)"}


def nodes_needed(reads_per_s: float, per_node: float | None) -> int | None:
    """Nodes to serve ``reads_per_s`` at ``per_node`` each (None without a capacity)."""
    return None if not per_node else math.ceil(reads_per_s / per_node)


def read_capacity(run_dir: Path) -> dict[str, Any] | None:
    """capacity.json of a run, or None (runs before the probe, `--capacity-s 0` writes one saying so)."""
    path = RunFiles(run_dir).capacity
    return read_json(path) if path.is_file() else None


def _per_core(requests: float | None, cpu_s: float | None) -> float | None:
    value = ratio(requests, cpu_s)
    return None if value is None else round(value)


def command_figures(entry: dict[str, Any]) -> dict[str, Any]:
    """One command's capacity point as summary figures (None where no point kept p99 under the limit)."""
    point: dict[str, Any] | None = entry.get("capacity")
    requests = num(point, "requests")
    server_cpu_s = num(point, "server_cpu_s")
    us = ratio(None if server_cpu_s is None else server_cpu_s * 1e6, requests)
    return {
        "command": entry.get("command"),
        "node": entry.get("node"),
        "key_entries": entry.get("key_entries"),
        "rps_per_node": num(point, "rps"),
        "clients": num(point, "clients"),
        "latency_ms_p50": num(point, "latency_ms_p50"),
        "latency_ms_p99": num(point, "latency_ms_p99"),
        "server_cpu_us_per_request": None if us is None else round(us, 2),
        "rps_per_server_core": _per_core(requests, server_cpu_s),
        "rps_per_client_core": _per_core(requests, num(point, "client_cpu_s")),
        "reason": entry.get("reason"),
    }


def capacity_section(doc: dict[str, Any] | None, cached: dict[str, Any] | None) -> dict[str, Any] | None:
    """summary.json ``capacity``: per command figures, naive's node count, the shards' load, headroom."""
    if doc is None:
        return None
    if not doc.get("available"):
        return {"available": False, "reason": doc.get("reason") or "not measured"}
    commands = {name: command_figures(entry) for name, entry in (doc.get("commands") or {}).items()}
    shard = commands.get("shard") or {}
    shard_rps, shard_core_rps = num(shard, "rps_per_node"), num(shard, "rps_per_server_core")
    harness = ratio(1e6, num(cached, "client_cpu_us_per_request"))
    # Every point of the sorted-set sweep counts: CPU per request does not depend on meeting the p99 limit.
    zset_points: list[dict[str, Any]] = ((doc.get("commands") or {}).get("zset") or {}).get("points") or []
    compiled = _per_core(
        sum(num(p, "requests") or 0.0 for p in zset_points),
        sum(num(p, "client_cpu_s") or 0.0 for p in zset_points),
    )
    return {
        "available": True,
        "tool": doc.get("tool"),
        "server": doc.get("server"),
        "cpu_count": num(doc.get("machine"), "cpu_count"),
        "p99_limit_ms": num(doc, "p99_limit_ms"),
        "method": doc.get("method"),
        "commands": commands,
        "naive_at_seed_peak": {
            "shard_reads_per_s": SEED_SHARD_READS_PER_S,
            "nodes_needed": nodes_needed(SEED_SHARD_READS_PER_S, shard_rps),
            "nodes_needed_per_core": nodes_needed(SEED_SHARD_READS_PER_S, shard_core_rps),
            # Every request reads every shard: each of the seed's shards takes the full 10k reads/s.
            "shard_share_of_capacity": _round(ratio(SEED_RPS, shard_rps), 4),
            "shard_share_of_core": _round(ratio(SEED_RPS, shard_core_rps), 4),
        },
        "headroom": {
            "harness_rps_per_generator_core": None if harness is None else round(harness),
            "compiled_rps_per_client_core": compiled,
            "compiled_over_harness": _round(ratio(compiled, harness), 2),
        },
    }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
