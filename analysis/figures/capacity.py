"""Per-node capacity from capacity.json (redis-benchmark), and what it says about the seed's scale.

Per node: the highest throughput a compiled client got from one node with p99 at or below 1 ms. On a
box where client and server share the cores, that is a lower bound. Per core: requests / the node's
CPU seconds over the same point (INFO used_cpu_user + sys), what one server core fully busy serves.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from analysis.figures.scale import SCALE_READS_PER_S as SEED_RPS
from analysis.figures.scale import SCALE_SHARDS as SEED_SHARDS
from analysis.figures.scale import nodes_needed
from analysis.fmt import Strategy, fmt_count, num, ratio
from runfiles import RunFiles, read_json

SEED_SHARD_READS_PER_S = SEED_RPS * SEED_SHARDS  # "10k x 10 shard queries = 100k queries/sec"
HEADROOM_PNG = "headroom.png"  # analysis/costplots.py draws it
COMMAND_LABELS = {"zset": "cached (sorted set)", "blob": "blob", "shard": "naive (one shard's read)"}


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


def capacity_section(doc: dict[str, Any] | None, cached: Strategy | None) -> dict[str, Any] | None:
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


def _row(name: str, c: dict[str, Any]) -> list[str]:
    return [
        COMMAND_LABELS.get(name, name),
        f"`{c.get('command')}` on {c.get('node')}",
        fmt_count(num(c, "rps_per_node")),
        fmt_count(num(c, "clients")),
        fmt_count(num(c, "latency_ms_p50"), 3),
        fmt_count(num(c, "latency_ms_p99"), 3),
        fmt_count(num(c, "server_cpu_us_per_request"), 2),
        fmt_count(num(c, "rps_per_server_core")),
        fmt_count(num(c, "rps_per_client_core")),
    ]


CAPACITY_HEADER = [
    "read",
    "command",
    "req/s per node (p99 ≤ limit)",
    "clients (-c)",
    "p50 ms",
    "p99 ms",
    "server CPU µs/req",
    "req/s per server core",
    "req/s per client core",
]


def capacity_rows(section: dict[str, Any]) -> list[list[str]]:
    """One table row per probed command."""
    return [_row(name, c) for name, c in (section.get("commands") or {}).items()]


def naive_line(section: dict[str, Any]) -> str:
    """How many nodes naive needs at the seed's peak, and the shards' share of their capacity."""
    peak: dict[str, Any] = section.get("naive_at_seed_peak") or {}
    share, core_share = num(peak, "shard_share_of_capacity"), num(peak, "shard_share_of_core")
    return (
        f"Naive at the seed's peak ({SEED_RPS:,} req/s = {SEED_SHARD_READS_PER_S:,} shard reads/s): "
        f"{fmt_count(num(peak, 'nodes_needed'))} nodes at the measured per-node capacity "
        f"({fmt_count(num(peak, 'nodes_needed_per_core'))} at the per-core figure); each of the seed's "
        f"{SEED_SHARDS} shards takes all {SEED_RPS:,} reads/s, "
        f"{'n/a' if share is None else f'{share:.0%}'} of its per-node capacity "
        f"({'n/a' if core_share is None else f'{core_share:.0%}'} of one core's)."
    )


def headroom_line(section: dict[str, Any]) -> str:
    """The harness's cached reads per generator core against the compiled client's per client core."""
    head: dict[str, Any] = section.get("headroom") or {}
    times = num(head, "compiled_over_harness")
    return (
        f"Cached reads per client core, same run: this harness (Python, cached phase: requests / generator"
        f" CPU s) {fmt_count(num(head, 'harness_rps_per_generator_core'))}, redis-benchmark (compiled,"
        f" all its sorted-set points: requests / its CPU s)"
        f" {fmt_count(num(head, 'compiled_rps_per_client_core'))}"
        + ("" if times is None else f": the compiled client does {times:,.1f}x the reads per core")
        + "."
    )


def headroom_rows_text(section: dict[str, Any]) -> str:
    """The capacity table as plain text lines for the terminal, then naive's node count."""
    rows = [CAPACITY_HEADER, *capacity_rows(section)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(CAPACITY_HEADER))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    return "\n".join([*lines, naive_line(section)])


CAPACITY_TEXT = (
    "Each read path's exact command sent straight at the node that serves it by a compiled client"
    " ({tool}) against {server}, on this machine's {cpus} cores shared by client and server: {method}."
    " Per node is that throughput (a lower bound where client and server share cores); per server core"
    " is requests / the node's CPU seconds over the same point (INFO cpu); per client core is requests"
    " / redis-benchmark's own CPU seconds. docs/capacity.md."
)


def capacity_report(summary: dict[str, Any], table: Callable[[list[str], list[list[str]]], str]) -> list[str]:
    """Per-node capacity of each read command (capacity.json), naive's node count and the headroom."""
    section: dict[str, Any] | None = summary.get("capacity")
    if section is None:
        return []
    title = "## Per-node capacity (compiled client)"
    if not section.get("available"):
        return [title, f"Not measured here: {section.get('reason')}. Claims g, q and v stay not measurable."]
    text = CAPACITY_TEXT.format(
        tool=section.get("tool"),
        server=section.get("server"),
        cpus=fmt_count(num(section, "cpu_count")),
        method=section.get("method"),
    )
    rows = table(CAPACITY_HEADER, capacity_rows(section))
    return [title, text, rows, naive_line(section), f"{headroom_line(section)} Plot: {HEADROOM_PNG}."]
