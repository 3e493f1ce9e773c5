"""Latency second by second: does a background refresh show up in what users wait for?"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from analysis.plots import CACHE_COLOR, DPI, FIGSIZE_IN, save_figure


def latency_timeline_figure(seconds: pd.DataFrame, refreshes: pd.DataFrame) -> Figure:
    """Per strategy: corrected p50 and p99 of each second (log scale), refreshes dotted."""
    strategies = [str(s) for s in pd.unique(seconds["strategy"])] or ["(none)"]
    fig, axes = plt.subplots(
        len(strategies),
        1,
        sharex=True,
        squeeze=False,
        figsize=(FIGSIZE_IN[0], max(FIGSIZE_IN[1], 2.4 * len(strategies))),
        dpi=DPI,
    )
    for ax, strategy in zip(axes[:, 0], strategies, strict=True):
        mine = seconds[seconds["strategy"] == strategy].sort_values("t_rel_s")
        ax.plot(mine["t_rel_s"], mine["p99_us"] / 1000, color="C3", label="p99")
        ax.plot(mine["t_rel_s"], mine["p50_us"] / 1000, color="C0", label="p50")
        in_phase: list[float] = (
            refreshes.loc[refreshes["strategy"] == strategy, "t_rel_s"].tolist()
            if not refreshes.empty
            else []
        )
        for i, t_s in enumerate(in_phase):
            if len(mine) and mine["t_rel_s"].min() <= t_s <= mine["t_rel_s"].max():
                label = "refresh" if i == 0 else "_nolegend_"
                ax.axvline(float(t_s), color=CACHE_COLOR, linestyle=":", linewidth=0.9, label=label)
        if mine.empty:
            ax.text(0.5, 0.5, "no requests recorded", ha="center", va="center", transform=ax.transAxes)
        else:
            ax.set_yscale("log")
            ax.legend(loc="upper right", fontsize="small")
        ax.set_title(strategy, loc="left", fontweight="bold")
        ax.set_ylabel("latency (ms)")
        ax.grid(True, which="both", alpha=0.3)
    axes[-1, 0].set_xlabel("time since the strategy's load start (s); dotted = refresh")
    fig.suptitle("Corrected latency of each second, all load generators merged")
    fig.tight_layout()
    return fig


def plot_latency_timeline(seconds: pd.DataFrame, refreshes: pd.DataFrame, path: Path) -> Path:
    """Write the per-second latency figure to path."""
    return save_figure(latency_timeline_figure(seconds, refreshes), path)
