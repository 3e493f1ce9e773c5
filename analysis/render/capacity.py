"""The report's "Per-node capacity" section and `lbbench capacity`'s table, from summary.json's capacity."""

from __future__ import annotations

from collections.abc import Callable

from analysis.figures.capacity import (
    COMMAND_LABELS,
    HEADROOM_PNG,
    SEED_RPS,
    SEED_SHARD_READS_PER_S,
    SEED_SHARDS,
)
from analysis.fmt import fmt_count
from runfiles.summary import Capacity, CapacityCommand, Headroom, NaiveAtPeak, Summary


def _row(name: str, c: CapacityCommand) -> list[str]:
    return [
        COMMAND_LABELS.get(name, name),
        f"`{c.command}` on {c.node}",
        fmt_count(c.rps_per_node),
        fmt_count(c.clients),
        fmt_count(c.latency_ms_p50, 3),
        fmt_count(c.latency_ms_p99, 3),
        fmt_count(c.server_cpu_us_per_request, 2),
        fmt_count(c.rps_per_server_core),
        fmt_count(c.rps_per_client_core),
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


def capacity_rows(section: Capacity) -> list[list[str]]:
    """One table row per probed command."""
    return [_row(name, c) for name, c in (section.commands or {}).items()]


def naive_line(section: Capacity) -> str:
    """How many nodes naive needs at the seed's peak, and the shards' share of their capacity."""
    peak = section.naive_at_seed_peak or NaiveAtPeak()
    share, core_share = peak.shard_share_of_capacity, peak.shard_share_of_core
    return (
        f"Naive at the seed's peak ({SEED_RPS:,} req/s = {SEED_SHARD_READS_PER_S:,} shard reads/s): "
        f"{fmt_count(peak.nodes_needed)} nodes at the measured per-node capacity "
        f"({fmt_count(peak.nodes_needed_per_core)} at the per-core figure); each of the seed's "
        f"{SEED_SHARDS} shards takes all {SEED_RPS:,} reads/s, "
        f"{'n/a' if share is None else f'{share:.0%}'} of its per-node capacity "
        f"({'n/a' if core_share is None else f'{core_share:.0%}'} of one core's)."
    )


def headroom_line(section: Capacity) -> str:
    """The harness's cached reads per generator core against the compiled client's per client core."""
    head = section.headroom or Headroom()
    times = head.compiled_over_harness
    return (
        f"Cached reads per client core, same run: this harness (Python, cached phase: requests / generator"
        f" CPU s) {fmt_count(head.harness_rps_per_generator_core)}, redis-benchmark (compiled,"
        f" all its sorted-set points: requests / its CPU s)"
        f" {fmt_count(head.compiled_rps_per_client_core)}"
        + ("" if times is None else f": the compiled client does {times:,.1f}x the reads per core")
        + "."
    )


def headroom_rows_text(section: Capacity) -> str:
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


def capacity_report(summary: Summary, table: Callable[[list[str], list[list[str]]], str]) -> list[str]:
    """Per-node capacity of each read command (capacity.json), naive's node count and the headroom."""
    section = summary.capacity
    if section is None:
        return []
    title = "## Per-node capacity (compiled client)"
    if not section.available:
        return [title, f"Not measured here: {section.reason}. Claims g, q and v stay not measurable."]
    text = CAPACITY_TEXT.format(
        tool=section.tool,
        server=section.server,
        cpus=fmt_count(section.cpu_count),
        method=section.method,
    )
    rows = table(CAPACITY_HEADER, capacity_rows(section))
    return [title, text, rows, naive_line(section), f"{headroom_line(section)} Plot: {HEADROOM_PNG}."]
