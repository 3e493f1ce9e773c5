"""The report's network projection: the table per profile, naive against the shard count, and its plot."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display here; must run before pyplot is imported

import matplotlib.pyplot as plt

from analysis.figures.netmodel import SHARD_COUNTS
from analysis.fmt import fmt_ms, md_table, ratio
from runfiles.summary import P50P99, ShardsPoint, Summary

NETWORK_PNG = "network_projection.png"
NETWORK_TEXT = (
    "A **projection**, not a measurement: one read in {every} per user timed each shard socket (send to"
    " reply) and the merge, and each cached read's service time; these measured parts are composed by"
    " Monte Carlo ({draws:,} draws, seed {seed}) with a round-trip-time profile: naive = max over"
    " shards of (send offset + RTT + reply) + merge, cached = RTT + service. {naive:,} sampled fan-outs"
    " over {shards} shards, {cached:,} sampled cached reads. Profiles and their published sources:"
    " docs/network-model.md; `lbbench netcheck` checks the model against a real delay relay."
)
BY_SHARDS_TEXT = (
    "Naive against the shard count (ms, p50 / p99): the max of N round trips is the tail amplification."
    " Beyond the run's own shard count each extra socket delays every reply by one measured send step"
    " (requests are all sent before any is read) and is read one measured client step (the mean gap"
    " between successive completions) after the last: a linear extrapolation."
)


def _pair(section: P50P99 | ShardsPoint | None) -> str:
    return "n/a / n/a" if section is None else f"{fmt_ms(section.p50)} / {fmt_ms(section.p99)}"


def network_section(summary: Summary, plots: dict[str, str]) -> list[str]:
    """The report's "Network projection" section; nothing for runs without sampled parts."""
    network = summary.network
    if not network:
        return []
    profiles = network.profiles or {}
    rows = []
    for name, p in profiles.items():
        x = ratio(p.naive_us.p50 if p.naive_us else None, p.cached_us.p50 if p.cached_us else None)
        rows.append(
            [
                name,
                _pair(p.rtt_us),
                _pair(p.naive_us),
                _pair(p.cached_us),
                "n/a" if x is None else f"{x:.1f}x",
            ]
        )
    header = ["profile", "RTT p50 / p99", "naive p50 / p99", "cached p50 / p99", "naive/cached p50"]
    samples = network.samples or {}
    text = NETWORK_TEXT.format(
        every=network.sample_every or 100,
        draws=network.draws,
        seed=network.seed,
        naive=samples["naive"],
        cached=samples["cached"],
        shards=network.shards,
    )
    parts = ["## Network projection", text, md_table(header, rows)]
    by_rows = []
    for name, p in profiles.items():
        by = {row.shards: row for row in p.naive_by_shards or []}
        if by:
            by_rows.append([name, *(_pair(by.get(k)) for k in SHARD_COUNTS)])
    if by_rows:
        parts += [BY_SHARDS_TEXT, md_table(["profile", *(f"{k} shards" for k in SHARD_COUNTS)], by_rows)]
    if NETWORK_PNG in plots.values():
        parts.append(f"![Projected latency against the shard count]({NETWORK_PNG})")
    return parts


def plot_network(summary: Summary, run_dir: Path) -> Path | None:
    """Projected naive p50/p99 against the shard count per profile, cached p99 as a level; None if no data."""
    network = summary.network
    if not network:
        return None
    fig, ax = plt.subplots(figsize=(9.0, 5.0), dpi=120)
    drawn = False
    for i, (name, p) in enumerate((network.profiles or {}).items()):
        by = p.naive_by_shards or []
        color = f"C{i % 10}"
        if by:
            shards = [row.shards for row in by]
            for q, style in (("p99", "-"), ("p50", "--")):
                ms = [(row.p99 if q == "p99" else row.p50) / 1000 for row in by]
                ax.plot(shards, ms, color=color, ls=style, label=f"{name} naive {q}")
            drawn = True
        cached_p99 = p.cached_us.p99 if p.cached_us else None
        if cached_p99 is not None:
            ax.axhline(cached_p99 / 1000, color=color, ls=":", label=f"{name} cached p99")
            drawn = True
    if not drawn:
        plt.close(fig)
        return None
    ax.set_xlabel("shards (naive fan-out)")
    ax.set_ylabel("projected latency (ms)")
    ax.set_title("Network projection: measured parts + RTT profile (Monte Carlo)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", ncol=3)
    path = run_dir / NETWORK_PNG
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
