"""A sweep's points as one tidy table (sweep.csv), and the client CPU each extra request costs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import metrics
from runfiles import SWEEP, SWEEP_POINTS, RunFiles, read_json

# (column, summary.json path) for every strategy at every point: the metric table's sweep rows.
TIDY_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = metrics.tidy_fields()


def sweep_frame(sweep_dir: Path) -> pd.DataFrame:
    """One row per (point, strategy): the swept value, then TIDY_FIELDS and derived background rates."""
    described = read_json(sweep_dir / SWEEP)
    rows = []
    for value, point in zip(described["values"], described["points"], strict=True):
        summary = read_json(RunFiles(sweep_dir / SWEEP_POINTS / point).summary)
        for strategy, section in summary["strategies"].items():
            row: dict[str, Any] = {
                "param": described["param"],
                "value": value,
                "point": point,  # shards=3, or shards=3-r2 for its second run (--repeats)
                "strategy": strategy,
            }
            row["shards"] = summary["scenario"]["shards"]
            row.update({column: metrics.value_at(section, path) for column, path in TIDY_FIELDS})
            rows.append(row)
    frame = pd.DataFrame(rows)
    interval_s = pd.to_numeric(frame["refresh_interval_s"], errors="coerce")
    frame["background_commands_per_s"] = pd.to_numeric(frame["refresh_commands"]) / interval_s
    frame["background_bytes_out_per_s"] = pd.to_numeric(frame["refresh_bytes_out"]) / interval_s
    if described["param"] == "rps":
        frame[CPU_SLOPE] = cpu_slope(frame)
    return frame


# Client CPU per request added between two swept rates: the marginal cost as a two-rate slope.
CPU_SLOPE = "client_cpu_us_per_request_slope"


def _with_cpu_rate(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with ``_rps`` (measured req/s) and ``_cpu`` (client CPU µs per second) added."""
    rps = pd.to_numeric(frame["rps"], errors="coerce")
    per_request_us = pd.to_numeric(frame["client_cpu_us_per_request"], errors="coerce")
    return frame.assign(_rps=rps, _cpu=rps * per_request_us)


def cpu_slope(frame: pd.DataFrame) -> pd.Series:
    """Per strategy, Δ(client CPU µs per second) / Δ(req/s) from the previous (lower) measured rate.

    Whatever the generator spends whatever the rate (its loop, telemetry, the per-second flush) and
    the sleeping and waking it does less of as requests come closer together both drop out: what is
    left is what one more request costs. NaN at each strategy's lowest rate.
    """
    slope = pd.Series(float("nan"), index=frame.index)
    for _, rows in _with_cpu_rate(frame).groupby("strategy", sort=False):
        # Repeated runs of one rate (--repeats) count as their median: a slope between two runs of
        # the same rate would be noise over a near-zero difference.
        per_value = rows.groupby("value")[["_rps", "_cpu"]].median().sort_values("_rps")
        delta_rps = per_value["_rps"].diff()
        by_value = (per_value["_cpu"].diff() / delta_rps).where(delta_rps > 0)
        slope[rows.index] = rows["value"].map(by_value).to_numpy()
    return slope


def cpu_fit_us(frame: pd.DataFrame) -> dict[str, float]:
    """Per strategy, the least-squares slope of client CPU µs/s on req/s over every swept rate.

    One figure per strategy, steadier than any two adjacent points' slope on a noisy machine.
    """
    fits: dict[str, float] = {}
    for strategy, rows in _with_cpu_rate(frame).groupby("strategy", sort=False):
        points = rows.dropna(subset=["_rps", "_cpu"])
        if points["_rps"].nunique() >= 2:
            fits[str(strategy)] = float(np.polyfit(points["_rps"], points["_cpu"], 1)[0])
    return fits
