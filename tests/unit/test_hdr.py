"""HDR histogram decoding, exact merging across workers and intervals, and the tidy interval frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.figures.summary import build_summary
from analysis.load import frames, hdr
from tests.unit.synthetic_run import T0_S, Interval, Redis, Worker, encoded, histogram_of, write_run

PERCENTILES = [0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0]


def _two_worker_values() -> tuple[list[list[int]], list[list[int]]]:
    """Five 1-s intervals of corrected µs values per worker; w1 is 4x slower so the merge matters."""
    rng = np.random.default_rng(3)
    w0 = [rng.lognormal(np.log(800), 0.8, 3000).astype(int).clip(1, 50_000_000).tolist() for _ in range(5)]
    w1 = [
        (4 * rng.lognormal(np.log(800), 0.8, 1000)).astype(int).clip(1, 50_000_000).tolist() for _ in range(5)
    ]
    return w0, w1


def _worker(name: str, per_interval: list[list[int]]) -> Worker:
    """A worker whose raw latency is half its corrected one and whose lag kind stays empty."""
    intervals = [
        Interval(float(k), {"corrected": v, "raw": [max(1, x // 2) for x in v], "lag": [], "write": []})
        for k, v in enumerate(per_interval)
    ]
    return Worker(name, intervals)


@pytest.fixture
def two_worker_run(tmp_path: Path) -> tuple[Path, list[int], list[int]]:
    w0, w1 = _two_worker_values()
    redis = Redis(commands=10 * 20_000, bytes_out=25_000 * 20_000, bytes_in=750 * 20_000)
    run_dir = write_run(tmp_path / "run", {"naive": ([_worker("w0", w0), _worker("w1", w1)], redis, {})})
    return run_dir, [x for v in w0 for x in v], [x for v in w1 for x in v]


def test_merge_of_two_workers_equals_histogram_of_all_values(
    two_worker_run: tuple[Path, list[int], list[int]],
) -> None:
    run_dir, w0_values, w1_values = two_worker_run
    merged = hdr.merged(run_dir, "naive", "corrected")
    single = histogram_of(w0_values + w1_values)
    assert merged.get_total_count() == single.get_total_count() == len(w0_values) + len(w1_values)
    for q in PERCENTILES:
        assert merged.get_value_at_percentile(q) == single.get_value_at_percentile(q), q
    assert merged.get_max_value() == single.get_max_value()
    assert merged.get_mean_value() == single.get_mean_value()
    counts = [merged.get_count_at_index(i) for i in range(merged.counts_len)]
    assert counts == [single.get_count_at_index(i) for i in range(single.counts_len)]
    # Neither worker alone has the merged distribution: p99 really combines both.
    assert histogram_of(w0_values).get_value_at_percentile(99) < merged.get_value_at_percentile(99)
    assert histogram_of(w1_values).get_value_at_percentile(50) > merged.get_value_at_percentile(50)


def test_summary_percentiles_are_the_merged_histograms(
    two_worker_run: tuple[Path, list[int], list[int]],
) -> None:
    run_dir, w0_values, w1_values = two_worker_run
    naive = build_summary(run_dir).to_json()["strategies"]["naive"]
    single = histogram_of(w0_values + w1_values)
    expected = {
        "p50": single.get_value_at_percentile(50),
        "p90": single.get_value_at_percentile(90),
        "p99": single.get_value_at_percentile(99),
        "p999": single.get_value_at_percentile(99.9),
        "max": single.get_max_value(),
        "mean": round(single.get_mean_value(), 1),
    }
    assert naive["latency_us"] == expected
    assert naive["latency_us_raw"] == hdr.hdr_stats(
        histogram_of([max(1, x // 2) for x in w0_values + w1_values])
    )
    assert naive["schedule_lag_us"] == hdr.hdr_stats(hdr.new_histogram())  # lag kind recorded nothing
    # HDR keeps 3 significant digits: the µs figures sit within 0.1% of the exact order statistics.
    for key, q in (("p50", 50), ("p99", 99)):
        exact_us = float(np.percentile(w0_values + w1_values, q, method="inverted_cdf"))
        assert abs(naive["latency_us"][key] - exact_us) <= 0.001 * exact_us + 1, key
    assert naive["requests"] == len(w0_values) + len(w1_values)
    assert naive["workers"] == 2


def test_per_interval_merges_workers_per_second(two_worker_run: tuple[Path, list[int], list[int]]) -> None:
    run_dir, _, _ = two_worker_run
    w0, w1 = _two_worker_values()
    seconds = hdr.per_interval(run_dir, "naive", "corrected")
    assert [t_s for t_s, _ in seconds] == [T0_S + k for k in range(5)]
    for k, (_, histogram) in enumerate(seconds):
        single = histogram_of(w0[k] + w1[k])
        assert histogram.get_total_count() == len(w0[k]) + len(w1[k])
        assert histogram.get_value_at_percentile(99) == single.get_value_at_percentile(99)


def test_missing_or_empty_kinds_decode_as_empty() -> None:
    assert hdr.decode(None).get_total_count() == 0
    assert hdr.decode("").get_total_count() == 0
    assert hdr.decode(encoded([5, 7])).get_total_count() == 2
    assert hdr.hdr_stats(hdr.decode("")) == {
        "p50": 0.0,
        "p90": 0.0,
        "p99": 0.0,
        "p999": 0.0,
        "max": 0.0,
        "mean": 0.0,
    }
    merged = hdr.merge([hdr.decode(""), hdr.decode(encoded([100])), hdr.new_histogram()])
    assert merged.get_total_count() == 1
    assert merged.get_max_value() == 100


def test_hdr_stats_of_known_values() -> None:
    stats = hdr.hdr_stats(histogram_of(range(1, 1001)))  # below 2048 µs HDR is exact at 3 digits
    assert stats == {"p50": 500.0, "p90": 900.0, "p99": 990.0, "p999": 999.0, "max": 1000.0, "mean": 500.5}


def test_percentile_curve_downsamples_and_keeps_extremes() -> None:
    values_us = np.random.default_rng(1).integers(100, 1_000_000, size=200_000)
    histogram = histogram_of(values_us.tolist())
    percentile, latency_us = hdr.percentile_curve(histogram, n_points=500)
    assert 100 < len(percentile) <= 500
    assert latency_us[0] == histogram.get_highest_equivalent_value(int(values_us.min()))
    assert latency_us[-1] == histogram.get_max_value()
    assert percentile[0] == 0.0
    assert percentile[-1] == pytest.approx(100.0 * (values_us.size - 1) / values_us.size)
    assert np.all(np.diff(percentile) > 0)
    assert np.all(np.diff(latency_us) >= 0)
    # Each point is the value of 0-based rank r = q·n, up to its HDR bucket.
    ordered = np.sort(values_us)
    ranks = np.rint(percentile / 100.0 * values_us.size).astype(int)
    expected = [histogram.get_highest_equivalent_value(int(ordered[r])) for r in ranks]
    assert latency_us.tolist() == expected
    assert np.interp(50.0, percentile, latency_us) == pytest.approx(np.median(values_us), rel=0.01)
    empty_percentile, empty_latency = hdr.percentile_curve(hdr.new_histogram())
    assert empty_percentile.size == 0
    assert empty_latency.size == 0


def test_latency_curves_frame(two_worker_run: tuple[Path, list[int], list[int]]) -> None:
    run_dir, w0_values, w1_values = two_worker_run
    curves = hdr.latency_curves(run_dir, n_points=200)
    assert list(curves.columns) == ["strategy", "kind", "percentile", "latency_us"]
    assert set(curves["kind"]) == {"corrected", "raw"}
    corrected = curves[curves["kind"] == "corrected"]
    assert corrected["latency_us"].max() == histogram_of(w0_values + w1_values).get_max_value()


def test_interval_and_worker_frames(two_worker_run: tuple[Path, list[int], list[int]]) -> None:
    run_dir, _, _ = two_worker_run
    intervals = frames.intervals(run_dir)
    assert list(intervals.columns) == [
        "strategy",
        "worker",
        "t_s",
        "t_rel_s",
        "dt_s",
        "requests",
        "failures",
        "partial",
        "fallbacks",
        "writes",
        "write_failures",
        "cpu_percent",
        "exhausted",
        "exhausted_first_s",
        "exhausted_last_s",
        "in_flight_max",
        "users",
        "dropped",
    ]
    # Written before failure policies existed: the new counts read as 0, no error kinds.
    assert intervals[["partial", "fallbacks"]].sum().sum() == 0
    assert intervals[["users", "dropped"]].sum().sum() == 0  # nor a pool that grows
    assert frames.interval_errors(run_dir).empty
    assert len(intervals) == 10
    assert intervals.groupby("worker")["requests"].sum().to_dict() == {"w0": 15_000, "w1": 5_000}
    assert sorted(intervals["t_rel_s"].unique()) == [0.0, 1.0, 2.0, 3.0, 4.0]
    workers = frames.workers(run_dir)
    assert list(workers["worker"]) == ["w0", "w1"]
    assert "client" not in workers.columns


def test_worker_frame_flattens_client_counts(tmp_path: Path) -> None:
    worker = _worker("local", [[100, 200]])
    worker.client = {"read_commands": 20, "read_bytes_received": 5000, "write_commands": 1}
    run_dir = write_run(tmp_path / "run", {"cached": ([worker], Redis(20, 5000, 100), {})})
    row = frames.workers(run_dir).iloc[0]
    assert row["client_read_commands"] == 20
    assert row["client_read_bytes_received"] == 5000
    assert row["client_write_commands"] == 1
    assert row["strategy"] == "cached"
