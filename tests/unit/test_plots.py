"""Unit tests for the PNG plots, built from synthetic frames (no servers)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from analysis.plots import (
    CACHE_COLOR,
    MAX_POINTS_PER_LINE,
    latency_percentile_figure,
    ops_per_node_figure,
    percentile_points,
    plot_latency_cdf,
    plot_ops_per_node,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NODE_NAMES = ["cache", *(f"shard-{i}" for i in range(10))]


def _assert_png(path: Path) -> None:
    assert path.is_file()
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 15_000, f"suspiciously small plot: {len(data)} bytes"


def _requests(n_per_strategy: int = 10_000) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    naive_us = rng.lognormal(np.log(3000), 0.4, n_per_strategy)
    cached_us = rng.lognormal(np.log(300), 0.4, n_per_strategy)
    frame = pd.DataFrame(
        {
            "strategy": ["naive"] * n_per_strategy + ["cached"] * n_per_strategy,
            "latency_us": np.concatenate([naive_us, cached_us]).astype(np.int64),
            "ok": np.ones(2 * n_per_strategy, dtype=bool),
        }
    )
    # A failed request with a huge latency must not appear in the plot.
    frame.loc[0, ["latency_us", "ok"]] = [10**9, False]
    return frame


def _nodes(samples: int = 20) -> pd.DataFrame:
    rows = []
    for strategy in ("naive", "cached"):
        for node in NODE_NAMES:
            for k in range(samples):
                ops_per_s = 20_000.0 if (node == "cache") == (strategy == "cached") else 5.0
                rows.append((strategy, float(k), node, "cache" if node == "cache" else "shard", ops_per_s))
    frame = pd.DataFrame(rows, columns=["strategy", "t_rel_s", "node", "role", "workload_ops_per_s"])
    frame.loc[frame["t_rel_s"] == 0.0, "workload_ops_per_s"] = np.nan  # first sample has no rate
    return frame


def _refreshes() -> pd.DataFrame:
    return pd.DataFrame({"strategy": ["cached"] * 3, "t_rel_s": [-1.0, 5.0, 15.0], "duration_s": [0.01] * 3})


def test_percentile_points_downsamples_and_keeps_extremes() -> None:
    latencies_us = np.random.default_rng(1).integers(100, 1_000_000, size=2_000_000)
    x, y_us = percentile_points(latencies_us)
    assert 100 < len(x) <= MAX_POINTS_PER_LINE
    assert y_us[0] == latencies_us.min()
    assert y_us[-1] == latencies_us.max()
    assert x[0] == 1.0
    assert x[-1] == pytest.approx(2_000_000)  # the max sits at 1/(1-q) = n
    assert np.all(np.diff(x) > 0)
    assert np.all(np.diff(y_us) >= 0)
    median_index = np.searchsorted(x, 2.0)  # x = 2 is q = 50%
    assert y_us[median_index] == pytest.approx(np.median(latencies_us), rel=0.01)


def test_percentile_points_empty_and_single() -> None:
    x, y_us = percentile_points(np.array([], dtype=np.int64))
    assert x.size == 0
    assert y_us.size == 0
    x, y_us = percentile_points(np.array([42]))
    assert list(x) == [1.0]
    assert list(y_us) == [42.0]


def test_latency_figure_has_one_line_per_strategy_without_failures() -> None:
    fig = latency_percentile_figure(_requests())
    try:
        (ax,) = fig.axes
        lines = ax.get_lines()
        assert [str(line.get_label()).split(" ")[0] for line in lines] == ["naive", "cached"]
        assert all(np.asarray(line.get_xdata()).size <= MAX_POINTS_PER_LINE for line in lines)
        assert max(float(np.max(line.get_ydata())) for line in lines) < 10**9
        assert ax.get_xscale() == "log"
        assert ax.get_yscale() == "log"
        tick_labels = [t.get_text() for t in ax.get_xticklabels()]
        assert {"50%", "90%", "99%", "99.9%"} <= set(tick_labels)
    finally:
        plt.close(fig)


def test_plot_latency_cdf_writes_png(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "latency_cdf.png"
    assert plot_latency_cdf(_requests(), path) == path
    _assert_png(path)
    assert plt.get_fignums() == []  # figures are closed after saving


def test_plot_latency_cdf_copes_with_no_successful_requests(tmp_path: Path) -> None:
    frame = _requests(100)
    frame["ok"] = False
    _assert_png(plot_latency_cdf(frame, tmp_path / "empty.png"))


def test_ops_figure_subplot_per_strategy_with_bold_cache_and_refresh_marks() -> None:
    fig = ops_per_node_figure(_nodes(), _refreshes())
    try:
        naive_ax, cached_ax = fig.axes
        assert naive_ax.get_title(loc="left") == "naive"
        assert cached_ax.get_title(loc="left") == "cached"
        for ax in (naive_ax, cached_ax):
            node_lines = {line.get_label(): line for line in ax.get_lines() if line.get_label() in NODE_NAMES}
            assert set(node_lines) == set(NODE_NAMES)
            assert node_lines["cache"].get_linewidth() > 2 * node_lines["shard-0"].get_linewidth()
            assert node_lines["cache"].get_color() == CACHE_COLOR
            assert np.asarray(node_lines["shard-3"].get_xdata()).size == 19  # NaN first sample dropped
        refresh_lines = [line for line in cached_ax.get_lines() if line.get_linestyle() == ":"]
        assert [float(np.asarray(line.get_xdata())[0]) for line in refresh_lines] == [
            5.0,
            15.0,
        ]  # t<0 is off-window
        assert not [line for line in naive_ax.get_lines() if line.get_linestyle() == ":"]
        legend_labels = [t.get_text() for t in fig.legends[0].get_texts()]
        assert legend_labels == [*NODE_NAMES, "refresh"]
    finally:
        plt.close(fig)


def test_plot_ops_per_node_writes_png(tmp_path: Path) -> None:
    path = tmp_path / "ops_per_node.png"
    assert plot_ops_per_node(_nodes(), path, _refreshes()) == path
    _assert_png(path)
    _assert_png(plot_ops_per_node(_nodes(), tmp_path / "no_refreshes.png"))
    assert plt.get_fignums() == []


def test_ops_figure_rejects_frames_missing_columns() -> None:
    with pytest.raises(ValueError, match="workload_ops_per_s"):
        ops_per_node_figure(_nodes().drop(columns=["workload_ops_per_s"]))
