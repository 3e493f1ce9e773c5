"""A sweep's curves (sweep.png) and its table (sweep.md), from the tidy frame of its points."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis.figures.sweep import CPU_SLOPE, cpu_fit_us
from analysis.render.plots import DPI, FIGSIZE_IN


def _lines(ax: Axes, frame: pd.DataFrame, column: str, label: str, scale: float = 1.0) -> None:
    """One line per strategy through each value's median; where a value ran more than once
    (``--repeats``), a bar from its lowest to its highest run."""
    for strategy, rows in frame.groupby("strategy", sort=False):
        series = pd.to_numeric(rows[column], errors="coerce") * scale
        if not series.notna().any():
            continue
        spread = series.groupby(rows["value"].to_numpy()).agg(["median", "min", "max", "count"]).dropna()
        (line,) = ax.plot(spread.index, spread["median"], marker="o", label=f"{strategy} {label}".strip())
        if (spread["count"] > 1).any():
            below, above = spread["median"] - spread["min"], spread["max"] - spread["median"]
            ax.errorbar(
                spread.index, spread["median"], yerr=[below, above], fmt="none",
                ecolor=line.get_color(), capsize=3, linewidth=1,
            )  # fmt: skip


def _valid_limit(ax: Axes, frame: pd.DataFrame) -> None:
    """Mark each strategy's highest swept value whose run was valid."""
    for i, (strategy, rows) in enumerate(frame.groupby("strategy", sort=False)):
        valid = rows[rows["valid"].astype(bool)]
        if not valid.empty:
            ax.axvline(float(valid["value"].max()), color=f"C{i}", linestyle="--", linewidth=1)
            ax.annotate(
                f"{strategy}: max valid", (float(valid["value"].max()), 0), rotation=90, fontsize="small"
            )


def _staleness_vs_load(ax: Axes, frame: pd.DataFrame) -> None:
    """Mean rank displacement against the refresher's bytes/s, each point labelled by its swept value."""
    load_kb_s = pd.to_numeric(frame["background_bytes_out_per_s"], errors="coerce") / 1000
    stale = pd.to_numeric(frame["stale_displacement_mean"], errors="coerce")
    measured = frame.assign(load_kb_s=load_kb_s, stale=stale).dropna(subset=["load_kb_s", "stale"])
    for strategy, rows in measured.groupby("strategy", sort=False):
        ax.plot(rows["load_kb_s"], rows["stale"], marker="o", label=str(strategy))
        for _, row in rows.iterrows():
            ax.annotate(f"{row['value']:g}", (row["load_kb_s"], row["stale"]))


def axis_label(param: str, unit: str) -> str:
    """``rps (req/s)``; a parameter that is its own unit (shards) is not named twice."""
    return param if unit in ("", param) else f"{param} ({unit})"


def sweep_figure(frame: pd.DataFrame, param: str, unit: str) -> Figure:
    """Two panels chosen for the parameter (see docs/methodology.md "Sweeps")."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(FIGSIZE_IN[0] * 1.3, FIGSIZE_IN[1]), dpi=DPI)
    if param in ("refresh-interval", "read-write-ratio"):
        _lines(left, frame, "stale_entries_mean", "entries differing (mean)")
        _lines(left, frame, "stale_displacement_mean", "rank displacement (mean of samples)")
        _lines(left, frame, "stale_displacement_max", "rank displacement (max)")
        left.set_ylabel("top-n entries / ranks")
        left.set_title("staleness", loc="left")
        _staleness_vs_load(right, frame)
        right.set_xlabel("refresher bytes out per second (kB/s), labelled by the swept value")
        right.set_ylabel("top-n rank displacement (mean of samples)")
        right.set_title("staleness vs background load", loc="left")
    else:
        _lines(left, frame, "latency_us_p50", "p50", 1e-3)
        _lines(left, frame, "latency_us_p99", "p99", 1e-3)
        left.set_ylabel("latency (ms)")
        left.set_title("latency", loc="left")
        if param == "rps":
            _valid_limit(left, frame)
            _lines(right, frame, "client_cpu_us_per_request", "all CPU / requests")
            _lines(right, frame, CPU_SLOPE, "slope from the rate below")
            right.set_ylabel("client CPU µs per request")
            right.set_title("load-generator cost", loc="left")
        else:
            _lines(right, frame, "bytes_out_per_request", "", 1e-3)
            right.set_ylabel("bytes out per request (kB)")
            right.set_title("network per request", loc="left")
    for ax in (left, right):
        if param != "refresh-interval" or ax is left:
            ax.set_xlabel(axis_label(param, unit))
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    repeats = int(frame.groupby(["strategy", "value"]).size().max()) if not frame.empty else 1
    spread = (
        f": median of {repeats} runs per value, bars from the lowest to the highest" if repeats > 1 else ""
    )
    fig.suptitle(f"Sweep over {param}{spread}")
    fig.tight_layout()
    return fig


MARKDOWN_COLUMNS = (
    "value",
    "strategy",
    "valid",
    "rps",
    "latency_us_p50",
    "latency_us_p99",
    "redis_commands_per_request",
    "bytes_out_per_request",
    "client_cpu_us_per_request",
    "stale_entries_mean",
    "stale_displacement_mean",
    "background_commands_per_s",
)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "n/a"
    return f"{value:,.4g}" if isinstance(value, float) else str(value)


def sweep_markdown(frame: pd.DataFrame, param: str, unit: str, plot_name: str) -> str:
    """sweep.md: the tidy table (selected columns) and the plot."""
    columns = list(MARKDOWN_COLUMNS)
    if CPU_SLOPE in frame:
        columns.insert(columns.index("client_cpu_us_per_request") + 1, CPU_SLOPE)
    # The swept value and the strategy label each row; the figures are numbers, right-aligned.
    rule = "|".join(":--" if c in ("value", "strategy") else "--:" for c in columns)
    lines = ["| " + " | ".join(columns) + " |", f"|{rule}|"]
    for _, row in frame[columns].iterrows():
        lines.append("| " + " | ".join(_cell(row[c]) for c in columns) + " |")
    intro = (
        f"# Sweep over {axis_label(param, unit)}\n\nEach row is one strategy at one point; every point is a"
        " full run with its own report under `points/`. The full table is `sweep.csv`."
    )
    parts = [intro, "\n".join(lines)]
    if CPU_SLOPE in frame:
        fits = ", ".join(f"{name} {slope:,.0f} µs" for name, slope in cpu_fit_us(frame).items())
        parts.append(
            f"Client CPU per extra request, least-squares slope of CPU per second on the rate: {fits}."
            f" `{CPU_SLOPE}` is the slope from the next lower rate alone."
        )
    return "\n\n".join([*parts, f"![sweep]({plot_name})"]) + "\n"
