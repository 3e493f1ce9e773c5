"""Staleness samples -> summary.json figures and the sawtooth plot (synthetic samples, no servers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from analysis.figures.staleness import staleness_summary
from analysis.render.staleness import plot_staleness, staleness_figure


def _samples() -> pd.DataFrame:
    # A 5 s sawtooth: age climbs 0..4, the view drifts 0,0,1,2,3 entries from the truth, then resets.
    rows = []
    for t in range(10):
        age = t % 5
        rows.append(
            {
                "strategy": "cached",
                "t_rel_s": float(t),
                "cache_age_s": float(age),
                "entries_differ": max(0, age - 1),
                "missing_from_cache": 0,
                "max_rank_displacement": 2 * age,
                "max_score_error": 100.0 * age,
                "error": "",
            }
        )
    rows.append({"strategy": "cached", "t_rel_s": 10.0, "error": "ConnectionError: gone"})
    return pd.DataFrame(rows)


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def test_summary_describes_the_sawtooth_and_counts_failed_samples() -> None:
    figures = staleness_summary(_samples())
    assert figures is not None
    assert figures["samples"] == 10
    assert figures["failed_samples"] == 1
    assert figures["cache_age_s"] == {"mean": 2.0, "max": 4.0}
    assert figures["entries_differ"]["mean"] == 1.2  # (0+0+1+2+3) * 2 / 10
    assert figures["entries_differ"]["max"] == 3
    assert figures["share_of_samples_differing"] == 0.6
    assert figures["max_rank_displacement"] == {"mean": 4.0, "max": 8}
    assert figures["max_score_error"] == 400.0


def test_no_samples_means_no_staleness_section() -> None:
    assert staleness_summary(pd.DataFrame(columns=["strategy", "error"])) is None


def test_plot_has_one_panel_per_strategy_and_marks_refreshes(tmp_path: Path) -> None:
    samples = pd.concat([_samples(), _samples().assign(strategy="incremental")], ignore_index=True)
    refreshes = pd.DataFrame({"strategy": ["cached", "cached", "incremental"], "t_rel_s": [5.0, 99.0, 5.0]})
    fig = staleness_figure(samples, refreshes)
    panels = [ax for ax in fig.axes if ax.get_title(loc="left")]
    assert [ax.get_title(loc="left") for ax in panels] == ["cached", "incremental"]
    # The refresh at 99 s lies outside the samples and is not drawn.
    assert [len(ax.lines) for ax in panels] == [2, 2]  # age line + one refresh marker each
    path = plot_staleness(samples, refreshes, tmp_path / "staleness.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_a_run_where_no_entry_differed_has_a_readable_right_axis_and_says_so() -> None:
    quiet = _samples().assign(entries_differ=0, max_rank_displacement=0)
    fig = staleness_figure(quiet, pd.DataFrame(columns=["strategy", "t_rel_s"]))
    panel = next(ax for ax in fig.axes if ax.get_title(loc="left"))
    twin = next(ax for ax in fig.axes if ax is not panel and ax.get_ylabel() == "entries / ranks")
    assert twin.get_ylim()[1] >= 1.0  # not matplotlib's empty 0-0.05
    assert any("no cached entry differed" in text.get_text() for text in panel.texts)
