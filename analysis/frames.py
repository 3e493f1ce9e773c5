"""Tidy pandas frames from a run directory's raw data (analysis never talks to Redis or Locust)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def strategies(run_dir: Path) -> list[str]:
    """Strategy names in run order (from meta.json, falling back to the raw folders)."""
    meta_path = run_dir / "meta.json"
    if meta_path.exists():
        names = read_json(meta_path).get("strategies")
        if names:
            return [n for n in names if (run_dir / "raw" / n).is_dir()]
    return sorted(p.name for p in (run_dir / "raw").iterdir() if p.is_dir())


def window(run_dir: Path, strategy: str) -> dict[str, Any]:
    return read_json(run_dir / "raw" / strategy / "window.json")


def requests(run_dir: Path) -> pd.DataFrame:
    """One row per request: strategy, t_end_s (epoch), t_rel_s (since the window start), latency_us, ok."""
    frames = []
    for name in strategies(run_dir):
        t0 = window(run_dir, name)["t_start_s"]
        for path in sorted((run_dir / "raw" / name).glob("requests-*.npz")):
            with np.load(path) as data:
                frame = pd.DataFrame({k: data[k] for k in ("t_end_s", "latency_us", "ok")})
            frame.insert(0, "strategy", name)
            frame["t_rel_s"] = frame["t_end_s"] - t0
            frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["strategy", "t_end_s", "latency_us", "ok", "t_rel_s"])
    return pd.concat(frames, ignore_index=True)


def loadgen(run_dir: Path) -> pd.DataFrame:
    """One row per Locust process: requests, failures, cpu_s, t_start_s, t_stop_s."""
    rows = []
    for name in strategies(run_dir):
        for path in sorted((run_dir / "raw" / name).glob("loadgen-*.json")):
            row = read_json(path)
            row["strategy"] = name
            row["errors"] = json.dumps(row.get("errors", {}))
            rows.append(row)
    return pd.DataFrame(rows)


def nodes(run_dir: Path) -> pd.DataFrame:
    """Telemetry samples per node with per-interval rates (``workload_ops_per_s`` etc.; NaN on first rows)."""
    frames = []
    for name in strategies(run_dir):
        frame = pd.read_csv(run_dir / "raw" / name / "nodes.csv")
        frame.insert(0, "strategy", name)
        frame["t_rel_s"] = frame["t_s"] - window(run_dir, name)["t_start_s"]
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    grouped = frame.groupby(["strategy", "node"], sort=False)
    dt_s = grouped["t_s"].diff()
    frame["workload_ops_per_s"] = grouped["workload_commands"].diff() / dt_s
    frame["workload_bytes_out_per_s"] = grouped["workload_bytes_out"].diff() / dt_s
    frame["cpu_fraction"] = grouped["cpu_s"].diff() / dt_s
    return frame


def commandstats(run_dir: Path) -> pd.DataFrame:
    """Cumulative commandstats per sample: strategy, t_s, node, command, calls, usec."""
    frames = []
    for name in strategies(run_dir):
        frame = pd.read_csv(run_dir / "raw" / name / "commandstats.csv")
        frame.insert(0, "strategy", name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def refreshes(run_dir: Path) -> pd.DataFrame:
    """One row per background refresh, with t_rel_s since its strategy's window start."""
    frames = []
    for name in strategies(run_dir):
        frame = pd.read_csv(run_dir / "raw" / name / "refreshes.csv")
        if frame.empty:
            continue
        frame.insert(0, "strategy", name)
        frame["t_rel_s"] = frame["t_start_s"] - window(run_dir, name)["t_start_s"]
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["strategy", "t_start_s", "duration_s", "commands", "t_rel_s"])
    return pd.concat(frames, ignore_index=True)
