"""summary.json: per-strategy figures from the tidy frames (schema in README.md)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import frames

SCHEMA_VERSION = 1
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p999": 99.9}
# A node "serves" a strategy if it handles at least this share of its workload commands.
NODE_SHARE_MIN = 0.01


def latency_stats(latency_us: np.ndarray[Any, Any]) -> dict[str, float]:
    """Nearest-rank percentiles (each one a latency that really happened), max and mean."""
    if latency_us.size == 0:
        return {**dict.fromkeys(PERCENTILES, 0.0), "max": 0.0, "mean": 0.0}
    ordered = np.sort(latency_us)
    count = ordered.size
    # The tolerance keeps 99.9% of 1000 at rank 999 despite 99.9/100*1000 = 999.0000000000001.
    ranks = {k: max(1, math.ceil(q / 100 * count - 1e-9)) for k, q in PERCENTILES.items()}
    stats = {k: float(ordered[rank - 1]) for k, rank in ranks.items()}
    stats["max"] = float(ordered[-1])
    stats["mean"] = round(float(ordered.mean()), 1)
    return stats


def _per_node(node_frame: pd.DataFrame, duration_s: float) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for node, rows in node_frame.groupby("node", sort=False):
        first, last = rows.iloc[0], rows.iloc[-1]
        commands = int(last["workload_commands"] - first["workload_commands"])
        out[str(node)] = {
            "role": str(first["role"]),
            "commands": commands,
            "ops_per_s": round(commands / duration_s, 1) if duration_s > 0 else 0.0,
            "bytes_out": int(last["workload_bytes_out"] - first["workload_bytes_out"]),
            "bytes_in": int(last["workload_bytes_in"] - first["workload_bytes_in"]),
            "cpu_s": round(float(last["cpu_s"] - first["cpu_s"]), 3),
            "used_memory_bytes": int(last["used_memory_bytes"]),
        }
    return out


def _refresher(refresh_frame: pd.DataFrame, interval_s: float | None) -> dict[str, Any] | None:
    if interval_s is None:
        return None
    ok = refresh_frame[refresh_frame["ok"].astype(bool)] if not refresh_frame.empty else refresh_frame
    count = len(ok)
    durations_ms = ok["duration_s"].to_numpy(dtype=float) * 1000 if count else np.zeros(0)
    return {
        "interval_s": interval_s,
        "refreshes": count,
        "failed_refreshes": len(refresh_frame) - count,
        "commands": int(ok["commands"].sum()) if count else 0,
        "bytes_out": int(ok["bytes_received"].sum()) if count else 0,
        "bytes_in": int(ok["bytes_sent"].sum()) if count else 0,
        "commands_per_refresh": float(ok["commands"].mean()) if count else 0.0,
        "bytes_out_per_refresh": float(ok["bytes_received"].mean()) if count else 0.0,
        "bytes_in_per_refresh": float(ok["bytes_sent"].mean()) if count else 0.0,
        "duration_ms": {
            "p50": round(float(np.median(durations_ms)), 2) if count else 0.0,
            "max": round(float(durations_ms.max()), 2) if count else 0.0,
        },
    }


def strategy_summary(
    request_frame: pd.DataFrame,
    *,
    loadgen_frame: pd.DataFrame,
    node_frame: pd.DataFrame,
    refresh_frame: pd.DataFrame,
    window: dict[str, Any],
) -> dict[str, Any]:
    """The summary.json entry of one strategy."""
    ok = request_frame["ok"].to_numpy(dtype=bool)
    requests, failures = int(ok.sum()), int((~ok).sum())
    attempts = max(requests + failures, 1)
    duration_s = float(loadgen_frame["t_stop_s"].max() - loadgen_frame["t_start_s"].min())
    per_node = _per_node(node_frame, duration_s)
    commands = sum(n["commands"] for n in per_node.values())
    cpu_s = float(loadgen_frame["cpu_s"].sum())
    redis_cpu_s = sum(n["cpu_s"] for n in per_node.values())
    return {
        "requests": requests,
        "failures": failures,
        "duration_s": round(duration_s, 3),
        "rps": round(requests / duration_s, 1) if duration_s > 0 else 0.0,
        "latency_us": latency_stats(request_frame["latency_us"].to_numpy()[ok]),
        "redis_commands_per_request": round(commands / attempts, 4),
        "bytes_out_per_request": round(sum(n["bytes_out"] for n in per_node.values()) / attempts, 1),
        "bytes_in_per_request": round(sum(n["bytes_in"] for n in per_node.values()) / attempts, 1),
        "client_cpu_us_per_request": round(cpu_s * 1e6 / attempts, 1),
        "redis_ops_per_s": round(commands / duration_s, 1) if duration_s > 0 else 0.0,
        "redis_cpu_us_per_request": round(redis_cpu_s * 1e6 / attempts, 1),
        "nodes_per_request": sum(
            1 for n in per_node.values() if commands and n["commands"] >= NODE_SHARE_MIN * commands
        ),
        "per_node": per_node,
        "refresher": _refresher(refresh_frame, window.get("refresh_interval_s")),
        "locust_returncode": window.get("locust_returncode"),
    }


def build_summary(run_dir: Path) -> dict[str, Any]:
    """summary.json content for a run directory."""
    meta = frames.read_json(run_dir / "meta.json")
    options = meta.get("options", {})
    request_frame = frames.requests(run_dir)
    loadgen_frame = frames.loadgen(run_dir)
    node_frame = frames.nodes(run_dir)
    refresh_frame = frames.refreshes(run_dir)
    result: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "run_id": meta.get("run_id", run_dir.name),
        "created_utc": meta.get("created_utc"),
        "scenario": {
            "players": options.get("players"),
            "shards": options.get("shards"),
            "seed": options.get("seed"),
            "duration_s": options.get("duration_s"),
            "users": options.get("users"),
            "refresh_interval_s": options.get("refresh_interval_s"),
            "cache_top_n": 1000,
            "top_n": options.get("top_n"),
            "server": meta.get("server"),
            "provider": options.get("provider"),
        },
        "strategies": {},
    }
    for name in frames.strategies(run_dir):
        result["strategies"][name] = strategy_summary(
            request_frame[request_frame["strategy"] == name],
            loadgen_frame=loadgen_frame[loadgen_frame["strategy"] == name],
            node_frame=node_frame[node_frame["strategy"] == name],
            refresh_frame=refresh_frame[refresh_frame["strategy"] == name],
            window=frames.window(run_dir, name),
        )
    return result
