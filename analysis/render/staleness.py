"""The staleness sawtooth: entries each cached view lacks and the cache's age, refreshes marked."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

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
        twin.set_ylim(bottom=0)
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
