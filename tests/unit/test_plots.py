"""Unit tests for the PNG plots, built from synthetic frames (no servers)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from analysis.load import hdr
from analysis.render.axes import readable
from analysis.render.plots import (
    CACHE_COLOR,
    latency_percentile_figure,
    ops_per_node_figure,
    per_second_rate,
    plot_latency_cdf,
    plot_ops_per_node,
    plot_rate,
    rate_figure,
)
from analysis.render.timeline import latency_timeline_figure
from tests.unit.synthetic_run import histogram_of

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NODE_NAMES = ["cache", *(f"shard-{i}" for i in range(10))]


def _assert_png(path: Path) -> None:
    assert path.is_file()
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 15_000, f"suspiciously small plot: {len(data)} bytes"


def _curves(n_per_strategy: int = 10_000) -> pd.DataFrame:
    """Corrected and raw curves per strategy from HDR histograms (raw is a third of corrected)."""
    rng = np.random.default_rng(7)
    parts = []
    for strategy, median_us in (("naive", 3000), ("cached", 300)):
        corrected_us = rng.lognormal(np.log(median_us), 0.4, n_per_strategy).astype(np.int64) + 1
        for kind, values_us in (("corrected", corrected_us), ("raw", corrected_us // 3 + 1)):
            percentile, latency_us = hdr.percentile_curve(histogram_of(values_us.tolist()), n_points=400)
            parts.append(
                pd.DataFrame(
                    {"strategy": strategy, "kind": kind, "percentile": percentile, "latency_us": latency_us}
                )
            )
    return pd.concat(parts, ignore_index=True)


def _intervals(per_worker_per_s: int = 50, seconds: int = 10) -> pd.DataFrame:
    """Two workers per strategy, each completing per_worker_per_s requests a second; last second partial."""
    rows = []
    for strategy in ("naive", "cached"):
        for worker in ("w0", "w1"):
            for k in range(seconds):
                dt_s = 0.5 if k == seconds - 1 else 1.0
                requests = int(per_worker_per_s * dt_s)
                rows.append((strategy, worker, 1000.0 + k, float(k), dt_s, requests))
    return pd.DataFrame(rows, columns=["strategy", "worker", "t_s", "t_rel_s", "dt_s", "requests"])


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


def test_latency_figure_corrected_solid_raw_dashed_same_colour() -> None:
    curves = _curves()
    fig = latency_percentile_figure(curves)
    try:
        (ax,) = fig.axes
        lines = {str(line.get_label()): line for line in ax.get_lines()}
        assert set(lines) == {"naive (corrected)", "naive (raw)", "cached (corrected)", "cached (raw)"}
        for strategy in ("naive", "cached"):
            solid, dashed = lines[f"{strategy} (corrected)"], lines[f"{strategy} (raw)"]
            assert solid.get_linestyle() == "-"
            assert dashed.get_linestyle() == "--"
            assert solid.get_color() == dashed.get_color()
        assert lines["naive (corrected)"].get_color() != lines["cached (corrected)"].get_color()
        # x = 1/(1-q): the median of naive's corrected curve sits at x = 2.
        naive = curves[(curves["strategy"] == "naive") & (curves["kind"] == "corrected")]
        x = np.asarray(lines["naive (corrected)"].get_xdata())
        assert x[0] == 1.0
        assert x[-1] == pytest.approx(1 / (1 - naive["percentile"].iloc[-1] / 100))
        assert np.asarray(lines["naive (corrected)"].get_ydata())[-1] == naive["latency_us"].max()
        assert ax.get_xscale() == "log"
        assert ax.get_yscale() == "log"
        tick_labels = [t.get_text() for t in ax.get_xticklabels()]
        assert {"50%", "90%", "99%", "99.9%"} <= set(tick_labels)
    finally:
        plt.close(fig)


def test_latency_figure_drops_points_at_100_percent() -> None:
    curves = pd.DataFrame(
        {"strategy": "naive", "kind": "corrected", "percentile": [0.0, 50.0, 100.0], "latency_us": [1, 2, 3]}
    )
    fig = latency_percentile_figure(curves)
    try:
        (line,) = fig.axes[0].get_lines()
        assert list(np.asarray(line.get_xdata())) == [1.0, 2.0]
    finally:
        plt.close(fig)


def test_plot_latency_cdf_writes_png(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "latency_cdf.png"
    assert plot_latency_cdf(_curves(), path) == path
    _assert_png(path)
    assert plt.get_fignums() == []  # figures are closed after saving


def test_plot_latency_cdf_copes_with_no_requests(tmp_path: Path) -> None:
    empty = pd.DataFrame(columns=["strategy", "kind", "percentile", "latency_us"])
    _assert_png(plot_latency_cdf(empty, tmp_path / "empty.png"))


def test_rate_figure_sums_workers_and_draws_open_loop_target() -> None:
    windows = {
        "naive": {"mode": "open", "target_rps": 120.0},
        "cached": {"mode": "closed", "target_rps": None},
    }
    fig = rate_figure(_intervals(), windows)
    try:
        (ax,) = fig.axes
        lines = {str(line.get_label()): line for line in ax.get_lines()}
        assert set(lines) == {"naive", "cached", "target"}
        # Two workers at 50 req/s each: 100 req/s, also in the half-length last second.
        assert list(np.asarray(lines["naive"].get_ydata())) == [100.0] * 10
        assert list(np.asarray(lines["naive"].get_xdata())) == [float(k) for k in range(10)]
        target = lines["target"]
        assert target.get_linestyle() == "--"
        assert list(np.asarray(target.get_ydata())) == [120.0, 120.0]
    finally:
        plt.close(fig)


def test_rate_figure_one_target_line_per_strategy_when_targets_differ() -> None:
    windows = {
        "naive": {"mode": "open", "target_rps": 120.0},
        "cached": {"mode": "open", "target_rps": 900.0},
    }
    fig = rate_figure(_intervals(), windows)
    try:
        lines = {str(line.get_label()): line for line in fig.axes[0].get_lines()}
        assert set(lines) == {"naive", "cached", "naive target", "cached target"}
        assert lines["cached target"].get_color() == lines["cached"].get_color()
        assert list(np.asarray(lines["cached target"].get_ydata())) == [900.0, 900.0]
    finally:
        plt.close(fig)


def test_plot_rate_writes_png(tmp_path: Path) -> None:
    path = tmp_path / "rate.png"
    assert plot_rate(_intervals(), {"naive": {"mode": "open", "target_rps": 100.0}}, path) == path
    _assert_png(path)
    empty = pd.DataFrame(columns=["strategy", "worker", "t_s", "t_rel_s", "dt_s", "requests"])
    _assert_png(plot_rate(empty, {}, tmp_path / "empty.png"))
    assert plt.get_fignums() == []


def test_ops_figure_subplot_per_strategy_with_bold_cache_and_refresh_marks() -> None:
    fig = ops_per_node_figure(_nodes(), _refreshes())
    try:
        naive_ax, cached_ax = fig.axes
        assert naive_ax.get_title(loc="left") == "naive"
        assert cached_ax.get_title(loc="left") == "cached"
        for ax in (naive_ax, cached_ax):
            node_lines = {line.get_gid(): line for line in ax.get_lines() if line.get_gid() in NODE_NAMES}
            assert set(node_lines) == set(NODE_NAMES)
            assert node_lines["cache"].get_linewidth() > 2 * node_lines["shard-0"].get_linewidth()
            assert node_lines["cache"].get_color() == CACHE_COLOR
            # The first sample has no rate (NaN): kept, as a gap in the line, not bridged.
            assert np.isnan(np.asarray(node_lines["shard-3"].get_ydata())[0])
        refresh_lines = [line for line in cached_ax.get_lines() if line.get_linestyle() == ":"]
        assert [float(np.asarray(line.get_xdata())[0]) for line in refresh_lines] == [
            5.0,
            15.0,
        ]  # t<0 is off-window
        assert not [line for line in naive_ax.get_lines() if line.get_linestyle() == ":"]
        # One entry for all the shards: a legend of identical grey lines tells nothing apart.
        legend_labels = [t.get_text() for t in fig.legends[0].get_texts()]
        assert legend_labels == ["cache", f"shards ({len(NODE_NAMES) - 1})", "refresh"]
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


def test_a_node_missing_samples_breaks_its_line_instead_of_bridging_the_outage() -> None:
    from analysis.render.plots import _with_gaps

    t_s = np.array([1.0, 2.0, 3.0, 8.0, 9.0])
    ops = np.array([500.0, 500.0, 500.0, np.nan, 500.0])
    gapped_t, gapped_ops = _with_gaps(t_s, ops)
    assert np.isnan(gapped_t[3])
    assert np.isnan(gapped_ops[3])
    assert list(gapped_t[~np.isnan(gapped_t)]) == list(t_s)


def test_a_short_first_interval_in_the_same_second_is_not_added_as_a_second_rate() -> None:
    # One worker at 500 req/s: a 0.19 s first interval and the next full second both round to t=1.
    rows = [
        ("cached", "w0", 1001.15, 1.15, 0.19, 95),
        ("cached", "w0", 1001.34, 1.34, 1.0, 500),
        ("cached", "w0", 1002.34, 2.34, 1.0, 500),
    ]
    frame = pd.DataFrame(rows, columns=["strategy", "worker", "t_s", "t_rel_s", "dt_s", "requests"])
    assert per_second_rate(frame)["rps"].round(1).tolist() == [500.0, 500.0]  # was 990 in the first


def test_log_axes_label_ticks_as_plain_numbers() -> None:
    seconds = pd.DataFrame(
        {
            "strategy": "cached",
            "t_rel_s": [0.0, 1.0, 2.0],
            "p50_us": [400.0, 500.0, 600.0],
            "p99_us": [6e3, 7e3, 8e3],
        }
    )
    fig = latency_timeline_figure(seconds, pd.DataFrame(columns=["strategy", "t_rel_s"]))
    try:
        fig.canvas.draw()
        ax = fig.axes[0]
        labels = [
            t.get_text() for t in [*ax.get_yticklabels(), *ax.get_yticklabels(minor=True)] if t.get_text()
        ]
        assert labels, "a log axis over one decade still labels some ticks"
        assert not [text for text in labels if "times" in text or "^" in text or "e+" in text]
        assert {"1", "10"} & set(labels)
    finally:
        plt.close(fig)


def test_readable_numbers_take_si_prefixes_from_ten_thousand() -> None:
    assert readable(2.76e7, "B/s") == "27.6 MB/s"
    assert readable(1660, "/s") == "1,660/s"
    assert readable(12_345, "/s") == "12.3k/s"
    assert readable(999_600) == "1 M"
    assert readable(0.25) == "0.25"
