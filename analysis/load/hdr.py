"""Decode and merge the load generator's per-interval µs HDR histograms (intervals.jsonl)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from hdrh.histogram import HdrHistogram

from analysis.load import frames
from runfiles import new_histogram

PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p999": 99.9}
MAX_POINTS_PER_CURVE = 2000
# Workers start their 1-s intervals independently; rounding t_s puts each second's intervals together.
INTERVAL_KEY_DECIMALS = 0


def decode(encoded: str | bytes | None) -> HdrHistogram:
    """Decode one ``HdrHistogram.encode()`` payload; missing or empty means nothing was recorded."""
    if not encoded:
        return new_histogram()
    return HdrHistogram.decode(encoded)


def merge(histograms: Iterable[HdrHistogram]) -> HdrHistogram:
    """Exact sum of histograms (counts add bucket by bucket)."""
    total = new_histogram()
    for histogram in histograms:
        if histogram.get_total_count():
            total.add(histogram)
    return total


def merged(run_dir: Path, strategy: str, kind: str) -> HdrHistogram:
    """One kind's histogram over every worker and interval of a strategy."""
    return merged_records(frames.interval_records(run_dir, strategy), kind)


def merged_records(records: Iterable[dict[str, Any]], kind: str) -> HdrHistogram:
    """One kind's histogram over these intervals.jsonl rows (read once, merged per kind)."""
    return merge(decode((r.get("hist") or {}).get(kind)) for r in records)


def per_interval(run_dir: Path, strategy: str, kind: str) -> list[tuple[float, HdrHistogram]]:
    """(interval start epoch s, histogram merged across workers), in time order."""
    by_t_s: dict[float, HdrHistogram] = {}
    for record in frames.interval_records(run_dir, strategy):
        t_s = round(float(record["t_s"]), INTERVAL_KEY_DECIMALS)
        histogram = decode((record.get("hist") or {}).get(kind))
        total = by_t_s.setdefault(t_s, new_histogram())
        if histogram.get_total_count():
            total.add(histogram)
    return sorted(by_t_s.items(), key=lambda item: item[0])


def hdr_stats(histogram: HdrHistogram) -> dict[str, float]:
    """p50/p90/p99/p999/max/mean in µs (HDR bucket upper bounds); all zeros when empty."""
    if not histogram.get_total_count():
        return {**dict.fromkeys(PERCENTILES, 0.0), "max": 0.0, "mean": 0.0}
    stats = {key: float(histogram.get_value_at_percentile(q)) for key, q in PERCENTILES.items()}
    stats["max"] = float(histogram.get_max_value())
    stats["mean"] = round(float(histogram.get_mean_value()), 1)
    return stats


def _recorded(histogram: HdrHistogram) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """(bucket upper bound µs, count) of every non-empty bucket, ascending."""
    counts = np.array([histogram.get_count_at_index(i) for i in range(histogram.counts_len)], dtype=np.int64)
    indices = np.flatnonzero(counts)
    values_us = [histogram.get_highest_equivalent_value(histogram.get_value_from_index(i)) for i in indices]
    return np.asarray(values_us, dtype=np.float64), counts[indices]


def percentile_curve(
    histogram: HdrHistogram, n_points: int = MAX_POINTS_PER_CURVE
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """At most n_points (percentile 0-100, latency µs), evenly spaced on a log 1/(1-q) axis.

    The value of 0-based rank r sits at q = r/n, so the minimum is at 0% and the maximum at
    100·(n-1)/n %, where 1/(1-q) = n: both are always kept, and no point falls at 100% (x = ∞).
    """
    values_us, counts = _recorded(histogram)
    n = int(counts.sum())
    if n == 0:
        return np.empty(0, dtype=np.float64), np.empty(0, dtype=np.float64)
    x_targets = np.geomspace(1.0, float(n), num=max(2, n_points))
    ranks = np.unique(np.clip(np.floor(n - n / x_targets).astype(np.int64), 0, n - 1))
    # Rank r (0-based) falls in the first bucket whose cumulative count exceeds r.
    bucket = np.searchsorted(np.cumsum(counts), ranks, side="right")
    return 100.0 * ranks.astype(np.float64) / n, values_us[bucket]


def latency_curves(run_dir: Path, n_points: int = MAX_POINTS_PER_CURVE) -> pd.DataFrame:
    """Corrected and raw latency-by-percentile curves: strategy, kind, percentile, latency_us."""
    parts = []
    for strategy in frames.strategies(run_dir):
        for kind in ("corrected", "raw"):
            percentile, latency_us = percentile_curve(merged(run_dir, strategy, kind), n_points)
            parts.append(
                pd.DataFrame(
                    {"strategy": strategy, "kind": kind, "percentile": percentile, "latency_us": latency_us}
                )
            )
    columns = ["strategy", "kind", "percentile", "latency_us"]
    non_empty = [p for p in parts if not p.empty]
    return pd.concat(non_empty, ignore_index=True) if non_empty else pd.DataFrame(columns=columns)


def latency_per_second(run_dir: Path, kind: str = "corrected") -> pd.DataFrame:
    """Per strategy and second (all workers merged): t_rel_s, requests, p50_us, p99_us, max_us."""
    rows = []
    for strategy in frames.strategies(run_dir):
        t0_s = frames.window(run_dir, strategy).t_start_s
        for t_s, histogram in per_interval(run_dir, strategy, kind):
            if not histogram.get_total_count():
                continue
            stats = hdr_stats(histogram)
            rows.append(
                {
                    "strategy": strategy,
                    "t_rel_s": t_s - t0_s,
                    "requests": int(histogram.get_total_count()),
                    "p50_us": stats["p50"],
                    "p99_us": stats["p99"],
                    "max_us": stats["max"],
                }
            )
    columns = ["strategy", "t_rel_s", "requests", "p50_us", "p99_us", "max_us"]
    return pd.DataFrame(rows, columns=columns)
