"""What the seed calls costs, drawn from summary.json: refresh spikes against steady load, and memory."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis.figures.capacity import HEADROOM_PNG
from analysis.render.axes import plain_log_ticks, readable
from analysis.render.plots import CACHE_COLOR, DPI, FIGSIZE_IN, save_figure
from runfiles.summary import Headroom, Spike, Summary


def _bars(ax: Axes, labels: list[str], groups: dict[str, list[float]], unit: str) -> None:
    """Grouped bars on a log axis, each bar labelled with its value in ``unit`` (27.6 MB/s, 1.2k/s)."""
    width = 0.8 / max(1, len(groups))
    x = np.arange(len(labels))
    for i, (name, values) in enumerate(groups.items()):
        bars = ax.bar(x + i * width, values, width, label=name)
        ax.bar_label(bars, labels=[readable(v, unit) for v in values], fontsize="x-small")
    ax.set_xticks(x + width * (len(groups) - 1) / 2, labels)
    ax.set_yscale("log")
    positive = [v for values in groups.values() for v in values if v > 0]
    if positive:  # bars on a log axis need a floor well under the smallest one to be comparable
        ax.set_ylim(bottom=min(positive) / 10, top=max(positive) * 3)
    plain_log_ticks(ax.yaxis)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize="small")


def spike_figure(summary: Summary) -> Figure | None:
    """Per cached strategy: bytes/s and commands/s while a refresh runs vs the steady read load."""
    spikes: dict[str, Spike] = {
        name: s.refresher.spike
        for name, s in summary.strategies.items()
        if s.refresher is not None and s.refresher.spike is not None
    }
    if not spikes:
        return None
    names = list(spikes)
    fig, axes = plt.subplots(1, 2, figsize=FIGSIZE_IN, dpi=DPI)
    rates = {
        ("bytes out of Redis per second", "B/s"): [
            (s.bytes_out_per_s, s.steady_bytes_out_per_s) for s in spikes.values()
        ],
        ("Redis commands per second", "/s"): [
            (s.commands_per_s, s.steady_commands_per_s) for s in spikes.values()
        ],
    }
    for ax, ((label, unit), pairs) in zip(axes, rates.items(), strict=True):
        during = [float(value or 0.0) for value, _ in pairs]
        steady = [float(value or 0.0) for _, value in pairs]
        _bars(ax, names, {"during a refresh": during, "steady reads": steady}, unit)
        ax.set_ylabel(f"{label} (log scale)")
    fig.suptitle("Refresh spike: rates while a refresh runs (per refresh / its p50 duration) vs steady reads")
    fig.tight_layout()
    return fig


def memory_figure(summary: Summary) -> Figure | None:
    """Key sizes from MEMORY USAGE: all shards' leaderboards, the cached top list, the global set."""
    measured = [s.memory for s in summary.strategies.values() if s.memory is not None]
    if not measured:
        return None
    # Each strategy's MEMORY USAGE ran after its own phase: a strategy without a cache (naive) saw
    # none, so the figure takes the entry that measured the largest cache key.
    memory = max(measured, key=lambda m: m.cache_key_bytes or 0)
    sizes = {
        "shards' leaderboards": memory.shard_key_bytes,
        "cached top 1000": memory.cache_key_bytes,
        "single global set": memory.by_label.get("global_set_bytes"),
    }
    shown = {label: value for label, value in sizes.items() if value}
    fig, ax = plt.subplots(figsize=FIGSIZE_IN, dpi=DPI)
    colors = ["0.5", CACHE_COLOR, "C0"][: len(shown)]
    bars = ax.barh(list(shown), list(shown.values()), color=colors)
    ax.bar_label(bars, labels=[f"{v / 1e6:,.2f} MB" for v in shown.values()], fontsize="small")
    ax.set_xscale("log")
    ax.set_xlim(left=min(shown.values()) / 10, right=max(shown.values()) * 5)
    plain_log_ticks(ax.xaxis)
    ax.set_xlabel("bytes (log scale)")
    ax.grid(True, axis="x", alpha=0.3)
    per_player = memory.bytes_per_player
    share = memory.cache_vs_shards
    ax.set_title(
        f"{per_player or 0:,.1f} bytes per player on the shards; the cache is {share or 0:.3%} of them",
        loc="left",
    )
    fig.tight_layout()
    return fig


def headroom_figure(summary: Summary) -> Figure | None:
    """Cached reads per client core in one run: this harness's generator against redis-benchmark."""
    head = (summary.capacity.headroom if summary.capacity else None) or Headroom()
    harness, compiled = head.harness_rps_per_generator_core, head.compiled_rps_per_client_core
    if harness is None or compiled is None:
        return None
    fig, ax = plt.subplots(figsize=FIGSIZE_IN, dpi=DPI)
    labels = ["this harness (Python generator)", "redis-benchmark (compiled)"]
    bars = ax.barh(labels, [harness, compiled], color=["0.5", CACHE_COLOR])
    ax.bar_label(bars, labels=[f"{v:,.0f}" for v in (harness, compiled)], fontsize="small")
    ax.set_xlim(right=max(harness, compiled) * 1.2)
    ax.set_xlabel("cached reads (ZRANGE top 100) per second of client CPU")
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_title(
        f"Client headroom: the compiled client does {compiled / harness:,.1f}x the reads per core", loc="left"
    )
    fig.tight_layout()
    return fig


def plot_costs(summary: Summary, run_dir: Path) -> dict[str, str]:
    """Write spikes.png, memory.png and headroom.png when the run has the figures; caption -> file name."""
    written = {}
    for caption, name, fig in (
        ("Refresh spikes against the steady read load", "spikes.png", spike_figure(summary)),
        ("Memory of the harness's keys", "memory.png", memory_figure(summary)),
        (
            "Cached reads per client core: this harness vs a compiled client",
            HEADROOM_PNG,
            headroom_figure(summary),
        ),
    ):
        if fig is not None:
            written[caption] = save_figure(fig, run_dir / name).name
    return written
