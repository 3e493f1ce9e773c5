"""Under faults: each strategy through each injected fault, second by second, and the figures of the table.

The fault windows come from ``faults.csv`` (one row per action the harness took); the requests
from ``intervals.jsonl`` (ok, failed, partial per second, all load generators merged); the
latency from the per-interval corrected histograms; the cache age from ``staleness.csv``; the
Redis load from ``nodes.csv``. Every time is seconds since the strategy's load window opened.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from hdrh.histogram import HdrHistogram

from analysis import frames
from analysis.hdr import hdr_stats, merge, per_interval

START_ACTIONS = ("pause", "kill", "throttle", "stop")
END_ACTIONS = ("resume", "restart", "unthrottle")
# A second counts as recovered when it fails nothing, answers nothing partially, and its p99 is
# back within this factor of the p99 before the fault (or within RECOVERED_SLACK_US of it).
RECOVERED_P99_FACTOR = 2.0
RECOVERED_SLACK_US = 1_000.0
RECOVERED_SECONDS = 3  # ... and so are the seconds after it


@dataclass(frozen=True)
class FaultWindow:
    """One fault as it happened in one strategy's phase (seconds since the load window opened)."""

    fault: str  # the spec as given
    kind: str
    target: str
    start_s: float
    end_s: float | None  # None: in effect until the phase ended (undone only by the teardown)


def fault_windows(rows: pd.DataFrame, phase_s: float) -> list[FaultWindow]:
    """The windows of one strategy's faults.csv rows (``t_rel_s`` column), in start order."""
    windows = []
    for fault, actions in rows.groupby("fault", sort=False):
        starts = actions[actions["action"].isin(START_ACTIONS)]
        if starts.empty:
            continue  # skipped (no refresher in this phase) or failed: nothing happened
        start_s = float(starts["t_rel_s"].min())
        ends = actions[actions["action"].isin(END_ACTIONS) & (actions["t_rel_s"] > start_s)]
        end_s = float(ends["t_rel_s"].min()) if not ends.empty else None
        if end_s is not None and end_s >= phase_s:
            end_s = None  # undone at the phase's end: it lasted the whole load
        first = starts.iloc[0]
        windows.append(FaultWindow(str(fault), str(first["kind"]), str(first["target"]), start_s, end_s))
    return sorted(windows, key=lambda w: w.start_s)


def seconds_frame(intervals: pd.DataFrame, strategy: str) -> pd.DataFrame:
    """Per second of one strategy: ok, failed, partial and fallback counts, all workers merged."""
    mine = intervals[intervals["strategy"] == strategy].copy()
    columns = ["requests", "failures", *(c for c in ("partial", "fallbacks") if c in mine.columns)]
    mine["second"] = np.floor(mine["t_rel_s"].astype(float)).astype("int64")
    per_second = mine.groupby("second")[columns].sum().reset_index()
    for column in ("partial", "fallbacks"):
        if column not in per_second.columns:
            per_second[column] = 0
    per_second["ok"] = per_second["requests"] - per_second["partial"]
    return per_second


def _in(second: pd.Series, start_s: float, end_s: float) -> pd.Series:
    """Seconds [s, s+1) that overlap [start_s, end_s)."""
    return (second + 1 > start_s) & (second < end_s)


def _p99_us(histograms: list[tuple[float, HdrHistogram]], start_s: float, end_s: float) -> float | None:
    picked = [h for t, h in histograms if t + 1 > start_s and t < end_s]
    merged = merge(picked)
    return hdr_stats(merged)["p99"] if merged.get_total_count() else None


def _recovery_s(
    seconds: pd.DataFrame,
    histograms: list[tuple[float, HdrHistogram]],
    window: FaultWindow,
    p99_before_us: float | None,
) -> float | None:
    """Seconds from the fault's end until the requests look as before it; None if not in the phase."""
    if window.end_s is None:
        return None
    p99_by_second = {math.floor(t): hdr_stats(h)["p99"] for t, h in histograms if h.get_total_count()}
    limit_us = None
    if p99_before_us is not None:
        limit_us = max(p99_before_us * RECOVERED_P99_FACTOR, p99_before_us + RECOVERED_SLACK_US)
    after = seconds[seconds["second"] + 1 > window.end_s].sort_values("second")
    rows = list(
        zip(after["second"].tolist(), after["failures"].tolist(), after["partial"].tolist(), strict=True)
    )
    healthy = [
        failures == 0
        and partial == 0
        and (limit_us is None or p99_by_second.get(int(second), 0.0) <= limit_us)
        for second, failures, partial in rows
    ]
    for i, (second, _, _) in enumerate(rows):
        if all(healthy[i : i + RECOVERED_SECONDS]):
            return max(0.0, float(second) - window.end_s)
    return None


def _ops_per_s(
    nodes: pd.DataFrame, strategy: str, exclude: str, start_s: float, end_s: float
) -> float | None:
    """Workload ops/s of the nodes other than ``exclude`` over [start_s, end_s), None without samples."""
    mine = nodes[(nodes["strategy"] == strategy) & (nodes["node"] != exclude)]
    # A sample's rate covers the second before it: its midpoint must fall inside the window.
    middle = mine["t_rel_s"] - 0.5
    mine = mine[(middle > start_s) & (middle < end_s)]
    per_sample = mine.groupby("t_rel_s")["workload_ops_per_s"].sum(min_count=1).dropna()
    return float(per_sample.mean()) if not per_sample.empty else None


def fault_row(
    strategy: str,
    window: FaultWindow,
    *,
    phase_s: float,
    seconds: pd.DataFrame,
    histograms: list[tuple[float, HdrHistogram]],
    staleness: pd.DataFrame,
    nodes: pd.DataFrame,
) -> dict[str, Any]:
    """One line of the strategy x fault table (docs/faults.md, "Under faults")."""
    end_s = window.end_s if window.end_s is not None else phase_s
    during = seconds[_in(seconds["second"], window.start_s, end_s)]
    attempts = int(during["requests"].sum() + during["failures"].sum())
    p99_before_us = _p99_us(histograms, 0.0, window.start_s)
    mine = staleness[(staleness["strategy"] == strategy) & (staleness["t_rel_s"] >= window.start_s)]
    ages = mine["cache_age_s"].dropna().tolist() if "cache_age_s" in mine.columns else []
    # When a reader would notice: the first sample after the fault began whose top n differs.
    differing = mine[mine["entries_differ"].fillna(0) > 0] if "entries_differ" in mine.columns else mine[:0]
    noticed = differing.iloc[0] if not differing.empty else None
    target = "cache" if window.target == "cache" else window.target
    before = _ops_per_s(nodes, strategy, target, 0.0, window.start_s) if not nodes.empty else None
    under = _ops_per_s(nodes, strategy, target, window.start_s, end_s) if not nodes.empty else None
    return {
        "strategy": strategy,
        "fault": window.fault,
        "kind": window.kind,
        "target": window.target,
        "start_s": round(window.start_s, 2),
        "end_s": None if window.end_s is None else round(window.end_s, 2),
        "attempts": attempts,
        "availability": None if not attempts else float(during["requests"].sum()) / attempts,
        "partial_share": None if not attempts else float(during["partial"].sum()) / attempts,
        "fallbacks": int(during["fallbacks"].sum()),
        "latency_us_p99_before": p99_before_us,
        "latency_us_p99_during": _p99_us(histograms, window.start_s, end_s),
        "cache_age_s_max": float(max(ages)) if ages else None,
        "stale_after_s": None if noticed is None else round(float(noticed["t_rel_s"]) - window.start_s, 1),
        "cache_age_s_when_stale": None if noticed is None else float(noticed["cache_age_s"]),
        "recovery_s": _recovery_s(seconds, histograms, window, p99_before_us),
        "other_nodes_ops_per_s_before": before,
        "other_nodes_ops_per_s_during": under,
    }


def under_faults(run_dir: Any) -> list[dict[str, Any]] | None:
    """summary.json's ``under_faults``: a row per strategy and fault; None for a run without faults."""
    faults = frames.faults(run_dir)
    if faults.empty:
        return None
    intervals = frames.intervals(run_dir)
    staleness = frames.staleness(run_dir)
    nodes = frames.nodes(run_dir)
    rows = []
    for strategy in frames.strategies(run_dir):
        window = frames.window(run_dir, strategy)
        phase_s = window.duration_s
        histograms = [(t_s - window.t_start_s, h) for t_s, h in per_interval(run_dir, strategy, "corrected")]
        seconds = seconds_frame(intervals, strategy)
        mine = faults[faults["strategy"] == strategy]
        for fault in fault_windows(mine, phase_s):
            rows.append(
                fault_row(
                    strategy,
                    fault,
                    phase_s=phase_s,
                    seconds=seconds,
                    histograms=histograms,
                    staleness=staleness,
                    nodes=nodes,
                )
            )
    return rows
