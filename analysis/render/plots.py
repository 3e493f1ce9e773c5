"""Matplotlib figures for a run: latency by percentile, achieved rate and Redis ops/s per node."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

matplotlib.use("Agg")  # no display here; must run before pyplot is imported

import matplotlib.pyplot as plt

from analysis.render.axes import plain_log_ticks

FIGSIZE_IN = (9.0, 5.0)
DPI = 120
CACHE_COLOR = "tab:red"
KIND_STYLES = {"corrected": "-", "raw": "--"}
# Quantiles labelled on the percentile axis, placed at x = 1/(1-q).
PERCENTILE_TICKS: tuple[tuple[float, str], ...] = (
    (0.0, "0%"),
    (0.5, "50%"),
    (0.9, "90%"),
    (0.99, "99%"),
    (0.999, "99.9%"),
    (0.9999, "99.99%"),
    (0.99999, "99.999%"),
    (0.999999, "99.9999%"),
)

_THOUSANDS = FuncFormatter(lambda value, _pos: f"{value:,.0f}")


def _require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise ValueError naming the columns a frame lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} frame lacks columns {missing}")


def _percentile_x(percentile: pd.Series) -> npt.NDArray[np.float64]:
    """x = 1/(1-q) of the HdrHistogram-style percentile axis; 100% maps to infinity."""
    q = percentile.to_numpy(dtype=np.float64) / 100.0
    with np.errstate(divide="ignore"):
        return 1.0 / (1.0 - q)


def _strategy_colors(strategies: Iterable[str]) -> dict[str, str]:
    """One colour of matplotlib's default cycle (C0..C9) per strategy, in order of appearance."""
    return {name: f"C{i % 10}" for i, name in enumerate(dict.fromkeys(strategies))}


def latency_percentile_figure(curves: pd.DataFrame) -> Figure:
    """Build the HdrHistogram-style latency-by-percentile figure: corrected solid, raw dashed."""
    _require_columns(curves, ("strategy", "kind", "percentile", "latency_us"), "curves")
    fig, ax = plt.subplots(figsize=FIGSIZE_IN, dpi=DPI)
    colors = _strategy_colors(str(s) for s in curves["strategy"])
    max_x = 1.0
    for (strategy, kind), group in curves.groupby(["strategy", "kind"], sort=False):
        ordered = group.sort_values("percentile")
        x = _percentile_x(ordered["percentile"])
        finite = np.isfinite(x)  # a 100% point would sit at x = infinity
        if not finite.any():
            continue
        ax.plot(
            x[finite],
            ordered["latency_us"].to_numpy(dtype=np.float64)[finite],
            color=colors[str(strategy)],
            linestyle=KIND_STYLES.get(str(kind), ":"),
            linewidth=1.6,
            label=f"{strategy} ({kind})",
        )
        max_x = max(max_x, float(x[finite].max()))
    if not ax.get_lines():
        ax.text(0.5, 0.5, "no successful requests", ha="center", va="center", transform=ax.transAxes)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ticks = [(1.0 / (1.0 - q), label) for q, label in PERCENTILE_TICKS if 1.0 / (1.0 - q) <= max_x * 1.001]
    ax.xaxis.set_major_locator(FixedLocator([x for x, _ in ticks]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([label for _, label in ticks])
    ax.set_xlim(1.0, max(max_x * 1.2, 2.0))
    plain_log_ticks(ax.yaxis)
    ax.set_xlabel("percentile (log scale of 1/(1-q))")
    ax.set_ylabel("latency (µs, log scale)")
    ax.set_title("Request latency by percentile: corrected (from intended start) solid, raw dashed")
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_lines():
        ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


def per_second_rate(rows: pd.DataFrame) -> pd.DataFrame:
    """Requests per second of each second (t_rel_s, rps): each worker's requests over its own time in
    that second, then summed over the workers.

    A worker's short first (or last) interval rounds into the same second as its next full one; its
    rate is over the time both cover, not the two rates added (which drew ~990 req/s against a 500
    target in a run's first second).
    """
    timed = rows.assign(second=rows["t_s"].round(), dt=rows["dt_s"].where(rows["dt_s"] > 0))
    worker = "worker" if "worker" in rows.columns else None
    keys = ["second", worker] if worker else ["second"]
    each = timed.groupby(keys).agg(t_rel_s=("t_rel_s", "min"), requests=("requests", "sum"), dt=("dt", "sum"))
    each["rps"] = each["requests"] / each["dt"]
    return each.groupby(level="second").agg(t_rel_s=("t_rel_s", "min"), rps=("rps", "sum"))


def rate_figure(intervals: pd.DataFrame, windows: dict[str, dict[str, Any]]) -> Figure:
    """Build achieved req/s per second per strategy, with each open-loop target dashed."""
    _require_columns(intervals, ("strategy", "t_s", "t_rel_s", "dt_s", "requests"), "intervals")
    fig, ax = plt.subplots(figsize=FIGSIZE_IN, dpi=DPI)
    strategies = [str(s) for s in pd.unique(intervals["strategy"])]
    colors = _strategy_colors([*strategies, *windows])
    for strategy in strategies:
        rows = intervals.loc[intervals["strategy"] == strategy]
        per_s = per_second_rate(rows)
        ax.plot(per_s["t_rel_s"], per_s["rps"], color=colors[strategy], linewidth=1.6, label=strategy)
    targets = {
        name: float(w["target_rps"])
        for name, w in windows.items()
        if w.get("mode") == "open" and w.get("target_rps")
    }
    if len(set(targets.values())) == 1:  # one shared target: one grey line rather than overlapping ones
        ax.axhline(next(iter(targets.values())), color="grey", linestyle="--", linewidth=1.0, label="target")
    else:
        for name, target_rps in targets.items():
            ax.axhline(target_rps, color=colors[name], linestyle="--", linewidth=1.0, label=f"{name} target")
    if not ax.get_lines():
        ax.text(0.5, 0.5, "no intervals recorded", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(_THOUSANDS)
    ax.set_xlabel("time since the strategy's load start (s)")
    ax.set_ylabel("successful requests/s")
    ax.set_title("Achieved request rate per second (dashed: open-loop target)")
    ax.grid(True, alpha=0.3)
    if ax.get_lines():
        ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def _node_sort_key(node: str) -> tuple[int, str, int]:
    """Order the cache node first, then shards numerically (shard-2 before shard-10)."""
    match = re.search(r"(\d+)$", node)
    if match is None:
        return (0 if node == "cache" else 1, node, -1)
    return (1, node[: match.start()], int(match[1]))


# Telemetry samples once a second; a longer gap is a node that did not answer (stalled, killed).
SAMPLE_GAP_S = 1.5


def _with_gaps(
    t_s: npt.NDArray[np.float64], values: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The series with a NaN wherever samples are missing, so the line breaks there instead of
    bridging an outage (a restarted node's first rate is NaN already: its counters restarted)."""
    gaps = np.flatnonzero(np.diff(t_s) > SAMPLE_GAP_S) + 1
    return np.insert(t_s, gaps, np.nan), np.insert(values, gaps, np.nan)


def _plot_strategy_nodes(ax: Axes, frame: pd.DataFrame, refresh_t_s: npt.NDArray[np.float64]) -> None:
    """Draw one line per node (grey shards, bold cache) and dotted refresh markers."""
    if "role" in frame.columns:
        pairs = frame.groupby("node", sort=False)["role"].first().items()
        roles = {str(node): str(role) for node, role in pairs}
    else:  # older telemetry without a role column: the cache node is named "cache"
        roles = {str(node): "cache" if node == "cache" else "shard" for node in pd.unique(frame["node"])}
    node_names = sorted(roles, key=_node_sort_key)
    shard_count = sum(1 for node in node_names if roles[node] != "cache")
    greys = iter(plt.get_cmap("Greys")(np.linspace(0.4, 0.8, max(1, shard_count))))
    # One legend entry stands for every shard: ten grey lines in the legend would tell nothing apart.
    shards_label = f"shards ({shard_count})" if shard_count > 1 else "shard"
    labelled_shards = False
    for node in node_names:
        series = frame.loc[frame["node"] == node].sort_values("t_rel_s")
        t_s, ops = _with_gaps(series["t_rel_s"].to_numpy(float), series["workload_ops_per_s"].to_numpy(float))
        if roles[node] == "cache":
            ax.plot(t_s, ops, label=node, gid=node, color=CACHE_COLOR, linewidth=2.4, zorder=3)
            continue
        label = "_nolegend_" if labelled_shards else shards_label
        labelled_shards = True
        ax.plot(t_s, ops, label=label, gid=node, color=next(greys), linewidth=0.9, zorder=2)
    t_min, t_max = float(frame["t_rel_s"].min()), float(frame["t_rel_s"].max())
    # A priming refresh before load start would otherwise stretch the shared x axis.
    in_window = refresh_t_s[(refresh_t_s >= t_min) & (refresh_t_s <= t_max)]
    for i, t_s in enumerate(in_window):
        ax.axvline(
            float(t_s),
            color=CACHE_COLOR,
            linestyle=":",
            linewidth=1.0,
            alpha=0.8,
            label="refresh" if i == 0 else "_nolegend_",
        )


def ops_per_node_figure(nodes: pd.DataFrame, refreshes: pd.DataFrame | None = None) -> Figure:
    """Build the ops/s-per-node figure: one subplot per strategy, one line per node."""
    _require_columns(nodes, ("strategy", "t_rel_s", "node", "workload_ops_per_s"), "nodes")
    if refreshes is not None:
        _require_columns(refreshes, ("strategy", "t_rel_s"), "refreshes")
    strategies = [str(s) for s in pd.unique(nodes["strategy"])]
    rows = max(1, len(strategies))
    fig, axes = plt.subplots(
        rows, 1, sharex=True, squeeze=False, figsize=(FIGSIZE_IN[0], max(FIGSIZE_IN[1], 2.5 * rows)), dpi=DPI
    )
    column: list[Axes] = list(axes[:, 0])
    if not strategies:
        column[0].text(0.5, 0.5, "no node samples", ha="center", va="center", transform=column[0].transAxes)
    for ax, strategy in zip(column, strategies, strict=False):
        refresh_t_s = np.empty(0, dtype=np.float64)
        if refreshes is not None:
            mine = refreshes.loc[refreshes["strategy"] == strategy, "t_rel_s"]
            refresh_t_s = mine.to_numpy(dtype=np.float64)
        _plot_strategy_nodes(ax, nodes.loc[nodes["strategy"] == strategy], refresh_t_s)
        ax.set_title(strategy, loc="left", fontweight="bold")
        ax.set_ylabel("Redis ops/s")
        ax.yaxis.set_major_formatter(_THOUSANDS)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
    column[-1].set_xlabel("time since the strategy's load start (s)")
    # One legend for the figure: the same 11 nodes appear in every subplot.
    by_label: dict[str, Any] = {}
    for ax in column:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            by_label.setdefault(label, handle)
    if by_label:
        fig.legend(
            list(by_label.values()),
            list(by_label.keys()),
            loc="center right",
            fontsize="small",
            title="node",
            frameon=False,
        )
    fig.suptitle("Redis workload ops/s per node (bold red = cache node, one grey line per shard)")
    fig.tight_layout(rect=(0.0, 0.0, 0.86 if by_label else 1.0, 1.0))
    return fig


def strategy_panels(strategies: list[str], panel_height_in: float) -> tuple[Figure, list[Axes]]:
    """One panel per strategy, stacked on a shared time axis."""
    fig, axes = plt.subplots(
        len(strategies),
        1,
        sharex=True,
        squeeze=False,
        figsize=(FIGSIZE_IN[0], max(FIGSIZE_IN[1], panel_height_in * len(strategies))),
        dpi=DPI,
    )
    return fig, list(axes[:, 0])


def mark_refreshes(
    ax: Axes, refreshes: pd.DataFrame, strategy: str, t_rel_s: pd.Series, **style: Any
) -> None:
    """Dotted lines at the strategy's refreshes that fall inside the samples' time range."""
    if refreshes.empty or t_rel_s.empty:
        return
    t_min, t_max = float(t_rel_s.min()), float(t_rel_s.max())
    in_phase = refreshes.loc[refreshes["strategy"] == strategy, "t_rel_s"].tolist()
    for i, t_s in enumerate(t for t in in_phase if t_min <= t <= t_max):
        label = "refresh" if i == 0 else "_nolegend_"
        ax.axvline(float(t_s), color=CACHE_COLOR, linestyle=":", label=label, **style)


def save_figure(fig: Figure, path: Path) -> Path:
    """Save a figure as PNG, creating the directory, and release its memory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fig.savefig(path, dpi=DPI, format="png")
    finally:
        plt.close(fig)
    return path


def plot_latency_cdf(curves: pd.DataFrame, path: Path) -> Path:
    """Write the latency-by-percentile plot (hdr.latency_curves rows) to path."""
    return save_figure(latency_percentile_figure(curves), path)


def plot_rate(intervals: pd.DataFrame, windows: dict[str, dict[str, Any]], path: Path) -> Path:
    """Write achieved req/s per second per strategy (frames.intervals rows) to path."""
    return save_figure(rate_figure(intervals, windows), path)


def plot_ops_per_node(nodes: pd.DataFrame, path: Path, refreshes: pd.DataFrame | None = None) -> Path:
    """Write Redis ops/s per node over time, one subplot per strategy, to path."""
    return save_figure(ops_per_node_figure(nodes, refreshes), path)
