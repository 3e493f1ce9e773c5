"""Under faults: each strategy through each injected fault, second by second, and the figures of the table.

The fault windows come from ``faults.csv`` (one row per action the harness took); the requests
from ``intervals.jsonl`` (ok, failed, partial per second, all load generators merged); the
latency from the per-interval corrected histograms; the cache age from ``staleness.csv``; the
Redis load from ``nodes.csv``. Every time is seconds since the strategy's load window opened.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hdrh.histogram import HdrHistogram

from analysis.load import frames
from analysis.load.hdr import hdr_stats, merge, per_interval
from runfiles import RunFiles

START_ACTIONS = ("pause", "kill", "throttle", "stop")
END_ACTIONS = ("resume", "restart", "unthrottle")
# A second counts as recovered when it fails nothing, answers nothing partially or by a fallback, and
# its p99 is
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
    for column in ("partial", "fallbacks"):
        if column not in mine.columns:
            mine[column] = 0
    columns = ["requests", "failures", "partial", "fallbacks"]
    mine["second"] = np.floor(mine["t_rel_s"].astype(float)).astype("int64")
    per_second = mine.groupby("second")[columns].sum()
    # Where each interval starts (the processes' seconds are not aligned to the faults' clock).
    per_second["start_s"] = mine.groupby("second")["t_rel_s"].min()
    per_second = per_second.reset_index()
    per_second["ok"] = per_second["requests"] - per_second["partial"]
    return per_second


def _in(interval_start_s: pd.Series, start_s: float, end_s: float) -> pd.Series:
    """Intervals [t, t+1) that overlap [start_s, end_s)."""
    return (interval_start_s + 1 > start_s) & (interval_start_s < end_s)


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
    after = seconds[seconds["start_s"] + 1 > window.end_s].sort_values("second")
    rows = list(
        zip(
            after["second"].tolist(),
            after["start_s"].tolist(),
            # A fallback answers, but it is the outage still going on (the cache empty until a refresh).
            (after["failures"] + after["partial"] + after["fallbacks"]).tolist(),
            after["requests"].tolist(),
            strict=True,
        )
    )
    healthy = [
        bad == 0 and ok > 0 and (limit_us is None or p99_by_second.get(int(second), 0.0) <= limit_us)
        for second, _, bad, ok in rows
    ]
    for i, (_, start_s, _, _) in enumerate(rows):
        if all(healthy[i : i + RECOVERED_SECONDS]):
            return round(max(0.0, float(start_s) - window.end_s), 1)
    return None


def _ops_per_s(nodes: pd.DataFrame, exclude: str, start_s: float, end_s: float) -> float | None:
    """Workload ops/s of the nodes other than ``exclude`` over [start_s, end_s), None without samples."""
    mine = nodes[nodes["node"] != exclude]
    # A sample's rate covers the second before it: its midpoint must fall inside the window.
    middle = mine["t_rel_s"] - 0.5
    mine = mine[(middle > start_s) & (middle < end_s)]
    per_sample = mine.groupby("t_rel_s")["workload_ops_per_s"].sum(min_count=1).dropna()
    return float(per_sample.mean()) if not per_sample.empty else None


@dataclass(frozen=True)
class PhaseView:
    """One strategy's frames, every time in seconds since its first request (the faults' clock)."""

    strategy: str
    phase_s: float
    timeout_s: float  # a request sent during a fault fails up to this long after it
    seconds: pd.DataFrame  # seconds_frame
    histograms: list[tuple[float, HdrHistogram]]  # corrected latency per interval
    staleness: pd.DataFrame
    nodes: pd.DataFrame
    faults: pd.DataFrame


def _shifted(frame: pd.DataFrame, strategy: str, shift_s: float) -> pd.DataFrame:
    mine = frame[frame["strategy"] == strategy].copy() if "strategy" in frame.columns else frame.copy()
    if "t_rel_s" in mine.columns:
        mine["t_rel_s"] = mine["t_rel_s"].astype(float) - shift_s
    return mine


def phase_view(run_dir: Path, strategy: str, frames_of_run: dict[str, pd.DataFrame]) -> PhaseView:
    """``strategy``'s part of the run's frames (intervals, staleness, nodes, faults), re-timed."""
    window = frames.window(run_dir, strategy)
    marker = RunFiles(run_dir).phase(strategy).load_start
    # The telemetry window opens before the first request (Locust starting, users connecting);
    # faults are scheduled from the first request, and so is everything here.
    shift_s = float(marker.read_text()) - window.t_start_s if marker.exists() else 0.0
    t0_s = window.t_start_s + shift_s
    options = frames.read_json(RunFiles(run_dir).meta).get("options") or {}
    return PhaseView(
        strategy=strategy,
        phase_s=window.duration_s,
        timeout_s=float(options.get("timeout_ms") or 0.0) / 1000,
        seconds=seconds_frame(_shifted(frames_of_run["intervals"], strategy, shift_s), strategy),
        histograms=[(t_s - t0_s, h) for t_s, h in per_interval(run_dir, strategy, "corrected")],
        staleness=_shifted(frames_of_run["staleness"], strategy, shift_s),
        nodes=_shifted(frames_of_run["nodes"], strategy, shift_s),
        faults=_shifted(frames_of_run["faults"], strategy, shift_s),
    )


def run_frames(run_dir: Path) -> dict[str, pd.DataFrame]:
    """The run's frames the fault analysis reads (each read once for every strategy)."""
    return {
        "intervals": frames.intervals(run_dir),
        "staleness": frames.staleness(run_dir),
        "nodes": frames.nodes(run_dir),
        "faults": frames.faults(run_dir),
    }


def fault_row(view: PhaseView, window: FaultWindow) -> dict[str, Any]:
    """One line of the strategy x fault table (docs/faults.md, "Under faults")."""
    seconds, histograms = view.seconds, view.histograms
    end_s = window.end_s if window.end_s is not None else view.phase_s
    # What the fault did lands up to one timeout after it: a request sent at its end fails then.
    affected = _in(seconds["start_s"], window.start_s, end_s + view.timeout_s)
    during = seconds[affected]
    attempts = int(during["requests"].sum() + during["failures"].sum())
    p99_before_us = _p99_us(histograms, 0.0, window.start_s)
    mine = view.staleness[view.staleness["t_rel_s"] >= window.start_s] if not view.staleness.empty else None
    ages = mine["cache_age_s"].dropna().tolist() if mine is not None else []
    # When a reader would notice: the first sample after the fault began whose top n differs.
    differing = mine[mine["entries_differ"].fillna(0) > 0] if mine is not None else None
    noticed = differing.iloc[0] if differing is not None and not differing.empty else None
    nodes = view.nodes
    before = _ops_per_s(nodes, window.target, 0.0, window.start_s) if not nodes.empty else None
    under = _ops_per_s(nodes, window.target, window.start_s, end_s) if not nodes.empty else None
    return {
        "strategy": view.strategy,
        "fault": window.fault,
        "kind": window.kind,
        "target": window.target,
        "start_s": round(window.start_s, 2),
        "end_s": None if window.end_s is None else round(window.end_s, 2),
        "attempts": attempts,
        "availability": None if not attempts else float(during["requests"].sum()) / attempts,
        "partial_share": None if not attempts else float(during["partial"].sum()) / attempts,
        "fallbacks": int(during["fallbacks"].sum()),
        "failures_outside": int(seconds.loc[~affected, "failures"].sum()),
        "latency_us_p99_before": p99_before_us,
        "latency_us_p99_during": _p99_us(histograms, window.start_s, end_s),
        "cache_age_s_max": float(max(ages)) if ages else None,
        "stale_after_s": None if noticed is None else round(float(noticed["t_rel_s"]) - window.start_s, 1),
        "cache_age_s_when_stale": None if noticed is None else float(noticed["cache_age_s"]),
        "recovery_s": _recovery_s(seconds, histograms, window, p99_before_us),
        "other_nodes_ops_per_s_before": before,
        "other_nodes_ops_per_s_during": under,
    }


def under_faults(run_dir: Path) -> list[dict[str, Any]] | None:
    """summary.json's ``under_faults``: a row per strategy and fault; None for a run without faults."""
    of_run = run_frames(run_dir)
    if of_run["faults"].empty:
        return None
    rows = []
    for strategy in frames.strategies(run_dir):
        view = phase_view(run_dir, strategy, of_run)
        rows += [fault_row(view, fault) for fault in fault_windows(view.faults, view.phase_s)]
    return rows
