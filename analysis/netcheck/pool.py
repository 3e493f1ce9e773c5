"""Several netchecks pooled: a p99 from one 20-s run moves by more than the tolerance between runs.

A p99 of 4,000 requests rests on its 40 slowest, and naive's max over ten sockets multiplies a tail
in the sampled parts. One run can miss or hit by 40% where repeats agree. So each row (run, profile,
strategy, quantile) is judged on the mean projection against the mean measurement over the repeats,
and each repeat's own error is shown next to it.
"""

from __future__ import annotations

from statistics import mean, median
from typing import Any

from analysis.fmt import md_table
from analysis.netcheck.check import row_label, row_verdict
from runfiles.rtt import BUILT_IN

Key = tuple[str, str, str, str]  # run, profile, strategy, quantile


def pool(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Pool the netcheck.json results of repeated checks, row by row (rows every check has)."""
    by_key: dict[Key, list[dict[str, Any]]] = {}
    for result in results:
        for row in result["rows"]:
            by_key.setdefault((row["run"], row["profile"], row["strategy"], row["quantile"]), []).append(row)
    rows = []
    for (run, profile, strategy, quantile), found in by_key.items():
        if len(found) != len(results) or any(
            r["measured_us"] is None or r["projected_us"] is None for r in found
        ):
            continue
        measured_us = mean(r["measured_us"] for r in found)
        projected_us = mean(r["projected_us"] for r in found)
        error = (projected_us - measured_us) / measured_us if measured_us else None
        tolerance = found[0]["tolerance"]
        rows.append({
            "run": run, "profile": profile, "strategy": strategy, "quantile": quantile,
            "errors": [r["error"] for r in found],
            "measured_us": measured_us, "projected_us": projected_us,
            "error": error, "tolerance": tolerance,
            "within": error is not None and abs(error) <= tolerance,
        })  # fmt: skip
    return {
        "checks": len(results),
        "rows": rows,
        "relay_hop_us": [r["relay_hop_us"] for r in results],
        "median_relay_overhead_us": _median_overhead(results),
        "all_within": all(r["within"] for r in rows if r["profile"] in BUILT_IN),
    }


def _median_overhead(results: list[dict[str, Any]]) -> dict[str, float]:
    """The relay's overhead per latency (``naive p50`` ...), median over the checks."""
    found: dict[str, list[float]] = {}
    for result in results:
        for row in result["relay_overhead"]:
            if row["overhead_us"] is not None:
                found.setdefault(f"{row['strategy']} {row['quantile']}", []).append(row["overhead_us"])
    return {latency: median(values) for latency, values in found.items()}


def render_pool(pooled: dict[str, Any]) -> str:
    """The pooled check as Markdown."""
    rows = []
    for r in pooled["rows"]:
        errors = " / ".join("n/a" if e is None else f"{e * 100:+.0f}%" for e in r["errors"])
        rows.append([*row_label(r), errors, *row_verdict(r)])
    header = ["run", "RTT profile", "latency", "each check's error", "mean measured ms",
              "mean projected ms", "pooled error", "within"]  # fmt: skip
    hops = ", ".join(f"{hop:,.0f}" for hop in pooled["relay_hop_us"])
    overhead = ", ".join(f"{k} {v:+,.0f} µs" for k, v in pooled["median_relay_overhead_us"].items())
    return (
        "\n\n".join(
            [
                f"## Network model against real delay relays, {pooled['checks']} checks pooled",
                "Each row: the mean projection against the mean measurement over the checks (raw"
                " latency), and each check's own error.",
                md_table(header, rows, labels=3),
                f"Relay hop per check: {hops} µs. The relay's own overhead, median over the checks:"
                f" {overhead}.",
                f"Every built-in profile within tolerance: **{'yes' if pooled['all_within'] else 'no'}**.",
            ]
        )
        + "\n"
    )
