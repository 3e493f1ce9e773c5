"""Latency second by second: does a background refresh show up in what users wait for?"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from analysis.render.axes import plain_log_ticks
from analysis.render.plots import mark_refreshes, save_figure, strategy_panels


def latency_timeline_figure(seconds: pd.DataFrame, refreshes: pd.DataFrame) -> Figure:
    """Per strategy: corrected p50 and p99 of each second (log scale), refreshes dotted."""
    strategies = [str(s) for s in pd.unique(seconds["strategy"])] or ["(none)"]
    fig, axes = strategy_panels(strategies, panel_height_in=2.4)
    for ax, strategy in zip(axes, strategies, strict=True):
        mine = seconds[seconds["strategy"] == strategy].sort_values("t_rel_s")
        ax.plot(mine["t_rel_s"], mine["p99_us"] / 1000, color="C3", label="p99")
        ax.plot(mine["t_rel_s"], mine["p50_us"] / 1000, color="C0", label="p50")
        mark_refreshes(ax, refreshes, strategy, mine["t_rel_s"], linewidth=0.9)
        if mine.empty:
            ax.text(0.5, 0.5, "no requests recorded", ha="center", va="center", transform=ax.transAxes)
        else:
            ax.set_yscale("log")
            plain_log_ticks(ax.yaxis)
            ax.legend(loc="upper right", fontsize="small")
        ax.set_title(strategy, loc="left", fontweight="bold")
        ax.set_ylabel("latency (ms)")
        ax.grid(True, which="both", alpha=0.3)
    axes[-1].set_xlabel("time since the strategy's load start (s); dotted = refresh")
    fig.suptitle("Corrected latency of each second, all load generators merged")
    fig.tight_layout()
    return fig


def plot_latency_timeline(seconds: pd.DataFrame, refreshes: pd.DataFrame, path: Path) -> Path:
    """Write the per-second latency figure to path."""
    return save_figure(latency_timeline_figure(seconds, refreshes), path)
