"""The staleness sawtooth: entries each cached view lacks and the cache's age, refreshes marked."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from analysis.render.plots import CACHE_COLOR, mark_refreshes, save_figure, strategy_panels


def staleness_figure(samples: pd.DataFrame, refreshes: pd.DataFrame) -> Figure:
    """Per cached strategy: cache age (sawtooth) and how many of the true top n the view lacks."""
    strategies = [str(s) for s in pd.unique(samples["strategy"])] or ["(none)"]
    fig, axes = strategy_panels(strategies, panel_height_in=2.6)
    for ax, strategy in zip(axes, strategies, strict=True):
        mine = samples[samples["strategy"] == strategy].sort_values("t_rel_s")
        ax.plot(mine["t_rel_s"], mine["cache_age_s"], color=CACHE_COLOR, marker=".", label="cache age (s)")
        ax.set_ylabel("cache age (s)", color=CACHE_COLOR)
        ax.set_ylim(bottom=0)
        ax.set_title(strategy, loc="left", fontweight="bold")
        ax.grid(True, alpha=0.3)
        twin = ax.twinx()
        twin.step(
            mine["t_rel_s"], mine["entries_differ"], where="post", color="C0", label="entries differing"
        )
        twin.plot(
            mine["t_rel_s"], mine["max_rank_displacement"], ".", color="C2", label="max rank displacement"
        )
        twin.set_ylabel("entries / ranks")
        # Counts of entries and ranks: whole ticks, and at least 0-1 so an all-zero run has an axis.
        counts = pd.concat([mine["entries_differ"], mine["max_rank_displacement"]]).dropna()
        peak = float(counts.max()) if not counts.empty else 0.0
        twin.set_ylim(0, max(1.0, peak) * 1.1)
        twin.yaxis.set_major_locator(MaxNLocator(integer=True))
        if not mine.empty and peak == 0:
            ax.text(
                0.99, 0.95, "no cached entry differed from the true top n in any sample",
                ha="right", va="top", transform=ax.transAxes, fontsize="small", color="C0",
            )  # fmt: skip
        mark_refreshes(ax, refreshes, strategy, mine["t_rel_s"], linewidth=0.8)
        handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
        ax.legend(handles=handles, loc="upper left", fontsize="small")
    axes[-1].set_xlabel("time since the strategy's load start (s); dotted = refresh")
    fig.suptitle("Staleness: cache age and the cached top n against the true top n, sampled once a second")
    fig.tight_layout()
    return fig


def plot_staleness(samples: pd.DataFrame, refreshes: pd.DataFrame, path: Path) -> Path:
    """Write the staleness sawtooth figure to path."""
    return save_figure(staleness_figure(samples, refreshes), path)
