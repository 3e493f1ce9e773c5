"""Staleness of the cached views: summary figures and the sawtooth plot (samples from the staleness probe)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis.render.plots import CACHE_COLOR, mark_refreshes, save_figure, strategy_panels


def staleness_summary(samples: pd.DataFrame) -> dict[str, Any] | None:
    """summary.json ``staleness`` of one strategy; None when it was not sampled (no cache to go stale)."""
    if samples.empty:
        return None
    # An all-empty error column reads back as float NaN: only a non-empty text is a failure.
    failed = samples["error"].notna() & (samples["error"].astype(str) != "")
    ok = samples[~failed]
    if ok.empty:
        return {"samples": 0, "failed_samples": int(failed.sum())}
    differ = ok["entries_differ"].to_numpy(dtype=float)
    age_s = ok["cache_age_s"].dropna().to_numpy(dtype=float)
    displacement = ok["max_rank_displacement"].to_numpy(dtype=float)
    return {
        "samples": len(ok),
        "failed_samples": int(failed.sum()),
        "cache_age_s": {
            "mean": round(float(age_s.mean()), 2) if age_s.size else None,
            "max": round(float(age_s.max()), 2) if age_s.size else None,
        },
        "entries_differ": {
            "mean": round(float(differ.mean()), 2),
            "p95": round(float(np.percentile(differ, 95)), 1),
            "max": int(differ.max()),
        },
        "share_of_samples_differing": round(float((differ > 0).mean()), 3),
        "max_rank_displacement": {
            "mean": round(float(displacement.mean()), 2),
            "max": int(displacement.max()),
        },
        "missing_from_cache_max": int(ok["missing_from_cache"].max()),
        "max_score_error": float(ok["max_score_error"].max()),
    }


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
