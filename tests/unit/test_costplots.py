"""Spike and memory figures from a summary dict (no servers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pytest

from analysis.render.costplots import memory_figure, plot_costs, spike_figure
from tests.unit.sample_summary import typed


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def test_spike_bars_compare_each_cached_strategy_with_its_steady_load(summary: dict[str, Any]) -> None:
    spike = {"bytes_out_per_s": 2.5e7, "steady_bytes_out_per_s": 1.2e6, "commands_per_s": 1660.0}
    summary["strategies"]["cached"]["refresher"]["spike"] = {**spike, "steady_commands_per_s": 500.0}
    fig = spike_figure(typed(summary))
    assert fig is not None
    bytes_axis = fig.axes[0]
    heights = sorted(round(bar.get_height()) for bar in bytes_axis.patches)
    assert heights == [1_200_000, 25_000_000]
    assert [t.get_text() for t in bytes_axis.get_xticklabels()] == ["cached"]


def test_no_refresher_means_no_spike_figure(summary: dict[str, Any]) -> None:
    del summary["strategies"]["cached"]
    assert spike_figure(typed(summary)) is None
    assert plot_costs(typed(summary), Path("/nonexistent")) == {}


def test_memory_bars_show_only_the_keys_that_exist(summary: dict[str, Any], tmp_path: Path) -> None:
    summary["strategies"]["cached"]["memory"] = {
        "shard_key_bytes": 84_000_000,
        "bytes_per_player": 84.0,
        "cache_key_bytes": 88_000,
        "cache_vs_shards": 0.00105,
        "global_set_bytes": None,
    }
    fig = memory_figure(typed(summary))
    assert fig is not None
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [
        "shards' leaderboards",
        "cached top 1000",
    ]
    assert "84.0 bytes per player" in fig.axes[0].get_title(loc="left")
    assert set(plot_costs(typed(summary), tmp_path).values()) == {"memory.png"}


def test_the_memory_title_takes_the_cache_the_cached_strategy_measured(summary: dict[str, Any]) -> None:
    # naive ran first, before any cache: its MEMORY USAGE of the cache key is 0.
    memory = {"shard_key_bytes": 82_700_000, "bytes_per_player": 82.7, "global_set_bytes": None}
    summary["strategies"]["naive"]["memory"] = {**memory, "cache_key_bytes": 0, "cache_vs_shards": 0.0}
    summary["strategies"]["cached"]["memory"] = {
        **memory,
        "cache_key_bytes": 87_576,
        "cache_vs_shards": 0.001059,
    }
    fig = memory_figure(typed(summary))
    assert fig is not None
    assert "the cache is 0.106% of them" in fig.axes[0].get_title(loc="left")  # was 0.000%


def test_spike_bars_are_labelled_in_readable_units(summary: dict[str, Any]) -> None:
    spike = {"bytes_out_per_s": 2.76e7, "steady_bytes_out_per_s": 1.2e6, "commands_per_s": 16_600.0}
    summary["strategies"]["cached"]["refresher"]["spike"] = {**spike, "steady_commands_per_s": 500.0}
    fig = spike_figure(typed(summary))
    assert fig is not None
    labels = [text.get_text() for ax in fig.axes for text in ax.texts]
    assert {"27.6 MB/s", "1.2 MB/s", "16.6k/s", "500/s"} <= set(labels)
    assert not [label for label in labels if "e+" in label]
