"""A sweep's points as one tidy table, its curves, and sweep.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis import metrics
from analysis.render.plots import DPI, FIGSIZE_IN, save_figure
from runfiles import SWEEP, SWEEP_POINTS, RunFiles, read_json

# (column, summary.json path) for every strategy at every point: the metric table's sweep rows.
TIDY_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = metrics.tidy_fields()


def sweep_frame(sweep_dir: Path) -> pd.DataFrame:
    """One row per (point, strategy): the swept value, then TIDY_FIELDS and derived background rates."""
    described = read_json(sweep_dir / SWEEP)
    rows = []
    for value, point in zip(described["values"], described["points"], strict=True):
        summary = read_json(RunFiles(sweep_dir / SWEEP_POINTS / point).summary)
        for strategy, section in summary["strategies"].items():
            row: dict[str, Any] = {"param": described["param"], "value": value, "strategy": strategy}
            row["shards"] = summary["scenario"]["shards"]
            row.update({column: metrics.value_at(section, path) for column, path in TIDY_FIELDS})
            rows.append(row)
    frame = pd.DataFrame(rows)
    interval_s = pd.to_numeric(frame["refresh_interval_s"], errors="coerce")
    frame["background_commands_per_s"] = pd.to_numeric(frame["refresh_commands"]) / interval_s
    frame["background_bytes_out_per_s"] = pd.to_numeric(frame["refresh_bytes_out"]) / interval_s
    if described["param"] == "rps":
        frame[CPU_SLOPE] = cpu_slope(frame)
    return frame


# Client CPU per request added between two swept rates: the marginal cost as a two-rate slope.
CPU_SLOPE = "client_cpu_us_per_request_slope"


def _with_cpu_rate(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with ``_rps`` (measured req/s) and ``_cpu`` (client CPU µs per second) added."""
    rps = pd.to_numeric(frame["rps"], errors="coerce")
    per_request_us = pd.to_numeric(frame["client_cpu_us_per_request"], errors="coerce")
    return frame.assign(_rps=rps, _cpu=rps * per_request_us)


def cpu_slope(frame: pd.DataFrame) -> pd.Series:
    """Per strategy, Δ(client CPU µs per second) / Δ(req/s) from the previous (lower) measured rate.

    Whatever the generator spends whatever the rate (its loop, telemetry, the per-second flush) and
    the sleeping and waking it does less of as requests come closer together both drop out: what is
    left is what one more request costs. NaN at each strategy's lowest rate.
    """
    slope = pd.Series(float("nan"), index=frame.index)
    for _, rows in _with_cpu_rate(frame).groupby("strategy", sort=False):
        ordered = rows.sort_values("_rps")
        delta_rps = ordered["_rps"].diff()
        slope[ordered.index] = (ordered["_cpu"].diff() / delta_rps).where(delta_rps > 0)
    return slope


def cpu_fit_us(frame: pd.DataFrame) -> dict[str, float]:
    """Per strategy, the least-squares slope of client CPU µs/s on req/s over every swept rate.

    One figure per strategy, steadier than any two adjacent points' slope on a noisy machine.
    """
    fits: dict[str, float] = {}
    for strategy, rows in _with_cpu_rate(frame).groupby("strategy", sort=False):
        points = rows.dropna(subset=["_rps", "_cpu"])
        if points["_rps"].nunique() >= 2:
            fits[str(strategy)] = float(np.polyfit(points["_rps"], points["_cpu"], 1)[0])
    return fits


def _lines(ax: Axes, frame: pd.DataFrame, column: str, label: str, scale: float = 1.0) -> None:
    for strategy, rows in frame.groupby("strategy", sort=False):
        series = pd.to_numeric(rows[column], errors="coerce") * scale
        if series.notna().any():
            ax.plot(rows["value"], series, marker="o", label=f"{strategy} {label}".strip())


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
            ax.set_xlabel(f"{param} ({unit})")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    fig.suptitle(f"Sweep over {param}")
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
    rule = "|".join(":--" if c == "strategy" else "--:" for c in columns)
    lines = ["| " + " | ".join(columns) + " |", f"|{rule}|"]
    for _, row in frame[columns].iterrows():
        lines.append("| " + " | ".join(_cell(row[c]) for c in columns) + " |")
    intro = (
        f"# Sweep over {param} ({unit})\n\nEach row is one strategy at one point; every point is a full"
        " run with its own report under `points/`. The full table is `sweep.csv`."
    )
    parts = [intro, "\n".join(lines)]
    if CPU_SLOPE in frame:
        fits = ", ".join(f"{name} {slope:,.0f} µs" for name, slope in cpu_fit_us(frame).items())
        parts.append(
            f"Client CPU per extra request, least-squares slope of CPU per second on the rate: {fits}."
            f" `{CPU_SLOPE}` is the slope from the next lower rate alone."
        )
    return "\n\n".join([*parts, f"![sweep]({plot_name})"]) + "\n"


def build_sweep_report(sweep_dir: Path) -> tuple[Path, Path, Path]:
    """Write sweep.csv, sweep.png and sweep.md into ``sweep_dir``."""
    described = read_json(sweep_dir / SWEEP)
    frame = sweep_frame(sweep_dir)
    csv_path = sweep_dir / "sweep.csv"
    frame.to_csv(csv_path, index=False)
    png = save_figure(sweep_figure(frame, described["param"], described["unit"]), sweep_dir / "sweep.png")
    md = sweep_dir / "sweep.md"
    md.write_text(sweep_markdown(frame, described["param"], described["unit"], png.name))
    return csv_path, png, md
