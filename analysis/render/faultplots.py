"""The "Under faults" timeline: per strategy, requests by outcome and p99 and cache age, faults shaded."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis.figures.underfaults import PhaseView, phase_view, run_frames
from analysis.load import frames
from analysis.load.hdr import hdr_stats
from analysis.render.axes import plain_log_ticks
from analysis.render.plots import DPI, FIGSIZE_IN, save_figure
from runfiles.summary import FaultRow

OUTCOMES = (
    ("ok", "tab:green", "ok"),
    ("partial", "tab:orange", "partial"),
    ("failures", "tab:red", "failed"),
)
PANEL_HEIGHT_IN = 2.2


def _shade(ax: Axes, windows: list[FaultRow], phase_s: float, *, label: bool) -> None:
    for i, window in enumerate(windows):
        end_s = window.end_s if window.end_s is not None else phase_s
        ax.axvspan(window.start_s, end_s, color="0.5", alpha=0.18, lw=0)
        if label:  # the first panel names the faults
            ax.text(
                window.start_s,
                1.0 - 0.12 * i,
                f" {window.fault}",
                transform=ax.get_xaxis_transform(),
                va="top",
                fontsize="x-small",
                color="0.3",
            )


def faults_timeline_figure(views: list[PhaseView], rows: list[FaultRow]) -> Figure:
    """Two panels per strategy: requests/s by outcome; corrected p99 (ms) with the cache age (s)."""
    fig, axes = plt.subplots(
        2 * max(len(views), 1),
        1,
        sharex=True,
        squeeze=False,
        dpi=DPI,
        figsize=(FIGSIZE_IN[0], max(FIGSIZE_IN[1], PANEL_HEIGHT_IN * 2 * len(views))),
    )
    for i, view in enumerate(views):
        counts_ax, latency_ax = axes[2 * i, 0], axes[2 * i + 1, 0]
        mine = view.seconds
        for column, color, label in OUTCOMES:
            if column == "ok" or mine[column].any():
                counts_ax.step(mine["start_s"], mine[column], where="post", color=color, label=label)
        counts_ax.set_ylabel("req/s")
        counts_ax.set_title(view.strategy, loc="left", fontweight="bold")
        counts_ax.legend(loc="lower left", fontsize="x-small")
        p99 = [(t_s, hdr_stats(h)["p99"] / 1000) for t_s, h in view.histograms if h.get_total_count()]
        if p99:
            latency_ax.plot([t for t, _ in p99], [v for _, v in p99], color="black", label="p99")
            latency_ax.set_yscale("log")
            plain_log_ticks(latency_ax.yaxis)
        latency_ax.set_ylabel("p99 (ms)")
        ages = view.staleness
        if not ages.empty and ages["cache_age_s"].notna().any():
            age_ax = latency_ax.twinx()
            age_ax.plot(ages["t_rel_s"], ages["cache_age_s"], color="tab:purple", linestyle="--")
            age_ax.set_ylabel("cache age (s)", color="tab:purple")
        windows = [r for r in rows if r.strategy == view.strategy]
        for ax in (counts_ax, latency_ax):
            _shade(ax, windows, view.phase_s, label=ax is counts_ax)
            ax.grid(True, alpha=0.3)
    axes[-1, 0].set_xlabel("time since the strategy's first request (s); shaded = fault in effect")
    fig.suptitle("Under faults: requests by outcome, corrected p99 and cache age, second by second")
    fig.tight_layout()
    return fig


def plot_faults_timeline(run_dir: Path, rows: list[FaultRow], path: Path) -> Path:
    """Write the faults timeline of ``run_dir`` (its summary's ``under_faults`` rows) to path."""
    of_run = run_frames(run_dir)
    views = [phase_view(run_dir, name, of_run) for name in frames.strategies(run_dir)]
    return save_figure(faults_timeline_figure(views, rows), path)
