"""Tidy pandas frames from a run directory's raw data (analysis never talks to Redis or Locust)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

import runfiles
from runfiles import RunFiles, Window

read_json = runfiles.read_json


def strategies(run_dir: Path) -> list[str]:
    """Strategy names in run order (from meta.json, falling back to the raw folders)."""
    return RunFiles(run_dir).strategies()


def window(run_dir: Path, strategy: str) -> Window:
    return RunFiles(run_dir).phase(strategy).read_window()


# Per-interval fields copied from intervals.jsonl; the histograms are read by analysis.hdr, the error
# kinds by interval_errors, the sampled reply times by analysis.netmodel. Counts absent from older run
# directories (before schema 4) read as 0.
_NOT_COLUMNS = ("worker", "t_s", "hist", "error_kinds", "grew", *runfiles.REPLY_SAMPLE_FIELDS)
INTERVAL_FIELDS = [f for f in runfiles.INTERVAL_FIELDS if f not in _NOT_COLUMNS]
INTERVAL_COUNTS = [
    "requests", "failures", "partial", "fallbacks", "writes", "write_failures", "exhausted", "in_flight_max",
    "users", "dropped",
]  # fmt: skip
ERROR_COLUMNS = ["strategy", "worker", "t_s", "t_rel_s", "kind", "count"]
_WORKER_TEXT = ("client", "gevent_backend", "pacing")
WORKER_COLUMNS = ["strategy", *(f for f in runfiles.WORKER_FIELDS if f not in _WORKER_TEXT)]


def interval_records(run_dir: Path, strategy: str) -> list[dict[str, Any]]:
    """intervals.jsonl of one strategy as dicts, histograms still encoded (empty list if absent)."""
    path = RunFiles(run_dir).phase(strategy).intervals
    if not path.exists():
        return []
    with path.open() as lines:
        return [json.loads(line) for line in lines if line.strip()]


def intervals(run_dir: Path) -> pd.DataFrame:
    """One row per worker and 1-s interval (no histograms); t_rel_s is since the strategy's window start."""
    rows = []
    for name in strategies(run_dir):
        t0_s = window(run_dir, name).t_start_s
        for record in interval_records(run_dir, name):
            t_s = float(record["t_s"])
            rows.append(
                {
                    "strategy": name,
                    "worker": str(record.get("worker", "local")),
                    "t_s": t_s,
                    "t_rel_s": t_s - t0_s,
                    **{key: record.get(key) for key in INTERVAL_FIELDS},
                }
            )
    frame = pd.DataFrame(rows, columns=["strategy", "worker", "t_s", "t_rel_s", *INTERVAL_FIELDS])
    frame[INTERVAL_COUNTS] = frame[INTERVAL_COUNTS].fillna(0).astype("int64")
    floats = ["dt_s", "cpu_percent", "exhausted_first_s", "exhausted_last_s"]
    frame[floats] = frame[floats].astype("float64")
    return frame


def interval_errors(run_dir: Path) -> pd.DataFrame:
    """Failed reads per worker, 1-s interval and error kind (exception class name): ERROR_COLUMNS.

    Long form, one row per kind that occurred, so failures per second by kind is a groupby away;
    empty for run directories from before the kinds were recorded.
    """
    rows = []
    for name in strategies(run_dir):
        t0_s = window(run_dir, name).t_start_s
        for record in interval_records(run_dir, name):
            t_s = float(record["t_s"])
            worker = str(record.get("worker", "local"))
            for kind, count in (record.get("error_kinds") or {}).items():
                rows.append([name, worker, t_s, t_s - t0_s, str(kind), int(count)])
    return pd.DataFrame(rows, columns=ERROR_COLUMNS).astype({"count": "int64"})


def workers(run_dir: Path) -> pd.DataFrame:
    """One row per Locust worker process (workers.json), ``client`` flattened to ``client_<field>``."""
    rows = []
    for name in strategies(run_dir):
        for entry in RunFiles(run_dir).phase(name).read_workers():
            row = {"strategy": name, **{k: v for k, v in entry.items() if k != "client"}}
            row |= {f"client_{k}": v for k, v in (entry.get("client") or {}).items()}
            row["errors"] = json.dumps(entry.get("errors") or {})
            rows.append(row)
    frame = pd.DataFrame(rows)
    for column in WORKER_COLUMNS:
        if column not in frame.columns:
            frame[column] = pd.Series(dtype="object" if column in ("worker", "host", "errors") else "float64")
    return frame


def increase(counter: pd.Series) -> float:
    """How much a cumulative counter grew over its samples, across restarts of the server behind it.

    A restarted server (a fault's kill) counts from zero again: the step that goes down is dropped,
    so the interval holding the restart is lost rather than subtracted.
    """
    return float(counter.diff().clip(lower=0).sum())


def nodes(run_dir: Path) -> pd.DataFrame:
    """Telemetry samples per node with per-interval rates (``workload_ops_per_s`` etc.; NaN on first rows)."""
    frames = []
    for name in strategies(run_dir):
        frame = pd.read_csv(RunFiles(run_dir).phase(name).nodes)
        frame.insert(0, "strategy", name)
        frame["t_rel_s"] = frame["t_s"] - window(run_dir, name).t_start_s
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    grouped = frame.groupby(["strategy", "node"], sort=False)
    dt_s = grouped["t_s"].diff()
    # A counter that went down is a restarted server (a fault): no rate for that interval.
    frame["workload_ops_per_s"] = grouped["workload_commands"].diff().where(lambda d: d >= 0) / dt_s
    frame["workload_bytes_out_per_s"] = grouped["workload_bytes_out"].diff().where(lambda d: d >= 0) / dt_s
    frame["cpu_fraction"] = grouped["cpu_s"].diff().where(lambda d: d >= 0) / dt_s
    return frame


def commandstats(run_dir: Path) -> pd.DataFrame:
    """Cumulative commandstats per sample: strategy, t_s, node, command, calls, usec."""
    frames = []
    for name in strategies(run_dir):
        frame = pd.read_csv(RunFiles(run_dir).phase(name).commandstats)
        frame.insert(0, "strategy", name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _timed_rows(
    run_dir: Path, file_name: str, time_column: str, empty_columns: list[str], *, optional: bool = False
) -> pd.DataFrame:
    """Every strategy's rows of one raw CSV, tagged with the strategy and t_rel_s since its window start.

    ``optional``: strategies without the file are skipped (it is written only for some of them).
    """
    frames = []
    for name in strategies(run_dir):
        path = RunFiles(run_dir).phase(name).dir / file_name
        if optional and not path.exists():
            continue
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
        if frame.empty:
            continue
        frame.insert(0, "strategy", name)
        frame["t_rel_s"] = frame[time_column] - window(run_dir, name).t_start_s
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=empty_columns)
    return pd.concat(frames, ignore_index=True)


def refreshes(run_dir: Path) -> pd.DataFrame:
    """One row per background refresh, with t_rel_s since its strategy's window start."""
    frame = _timed_rows(
        run_dir,
        runfiles.REFRESHES,
        "t_start_s",
        ["strategy", "t_start_s", "duration_s", "commands", "ok", "shards_missing", "t_rel_s"],
    )
    # refreshes.csv before schema 4 had no shards_missing column: every refresh was complete.
    frame["shards_missing"] = frame.get("shards_missing", pd.Series(0, index=frame.index)).fillna(0)
    return frame.astype({"shards_missing": "int64"})


def faults(run_dir: Path) -> pd.DataFrame:
    """One row per fault action (faults.csv, runs with --fault), with t_rel_s since the window start."""
    columns = ["strategy", *runfiles.FAULT_COLUMNS, "t_rel_s"]
    return _timed_rows(run_dir, runfiles.FAULTS, "t_s", columns, optional=True)


def staleness(run_dir: Path) -> pd.DataFrame:
    """One row per staleness sample (cached strategies only), with t_rel_s since the window start."""
    columns = ["strategy", "t_s", "t_rel_s", "cache_age_s", "entries_differ", "error"]
    return _timed_rows(run_dir, runfiles.STALENESS, "t_s", columns, optional=True)
