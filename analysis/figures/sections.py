"""summary.json's per-strategy parts built from the frames: totals, nodes, refresher, writes, memory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from hdrh.histogram import HdrHistogram

from analysis.load import hdr
from analysis.load.frames import increase
from analysis.metrics import Totals, Traffic
from runfiles import CACHE_KEY_LABEL, SHARD_LABEL_PREFIX

# A node "serves" a strategy if it handles at least this share of its workload commands.
NODE_SHARE_MIN = 0.01


def _total(frame: pd.DataFrame, column: str) -> float:
    """Sum of a column, 0 when the column is absent (older or partial workers.json)."""
    return float(frame[column].fillna(0).sum()) if column in frame.columns else 0.0


def _ratio(numerator: float, denominator: float) -> float | None:
    """numerator/denominator, None when the denominator is 0."""
    return numerator / denominator if denominator else None


def loadgen_cpu_percent(
    interval_frame: pd.DataFrame, workers_frame: pd.DataFrame | None = None
) -> dict[str, float]:
    """Per-worker CPU % over its load window, then the mean and max over workers.

    Each process measures its CPU over exactly its window (workers.json ``window_cpu_s`` over
    ``window_wall_s``). Runs from before that fall back to the mean of the per-second intervals
    without the first and last; that mean still counts a second the window only partly covered, and
    a 20k req/s run at 99-100% CPU in every full second came out at 90.6%.
    """
    windows: dict[str, float] = {}
    if workers_frame is not None and {"window_cpu_s", "window_wall_s"} <= set(workers_frame.columns):
        for worker, cpu_s, wall_s in workers_frame[["worker", "window_cpu_s", "window_wall_s"]].itertuples(
            index=False
        ):
            if pd.notna(cpu_s) and pd.notna(wall_s) and wall_s > 0:
                windows[str(worker)] = 100.0 * float(cpu_s) / float(wall_s)
    per_worker: list[float] = []
    for worker, rows in interval_frame.groupby("worker", sort=False):
        if str(worker) in windows:
            per_worker.append(windows[str(worker)])
            continue
        ordered = rows.sort_values("t_s")
        full = ordered.iloc[1:-1] if len(ordered) > 2 else ordered
        mean = full["cpu_percent"].mean()
        if pd.notna(mean):
            per_worker.append(float(mean))
    if not per_worker:
        return {"mean": 0.0, "max": 0.0}
    return {"mean": round(sum(per_worker) / len(per_worker), 1), "max": round(max(per_worker), 1)}


# Client and Redis counts of the same traffic must agree this closely (in-flight requests at stop).
CROSS_CHECK_TOLERANCE = 0.01


def cross_check(redis_side: Traffic, client_side: Traffic) -> dict[str, Any]:
    """Redis/client ratios of commands, bytes_out and bytes_in; agree when all are within 1%."""
    ratios = {
        key: _ratio(getattr(redis_side, key), getattr(client_side, key))
        for key in ("commands", "bytes_out", "bytes_in")
    }
    agree = all(r is not None and abs(r - 1.0) <= CROSS_CHECK_TOLERANCE for r in ratios.values())
    return {key: None if r is None else round(r, 4) for key, r in ratios.items()} | {"agree": agree}


def write_calls(commandstats_frame: pd.DataFrame | None) -> dict[str, int]:
    """Per node, the writer's ZINCRBY calls in the window (from commandstats)."""
    if commandstats_frame is None or commandstats_frame.empty:
        return {}
    rows = commandstats_frame[commandstats_frame["command"] == "zincrby"].sort_values("t_s")
    return {str(node): int(increase(calls)) for node, calls in rows.groupby("node")["calls"]}


def per_node_figures(
    node_frame: pd.DataFrame, duration_s: float, commandstats_frame: pd.DataFrame | None = None
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    writes = write_calls(commandstats_frame)
    for node, rows in node_frame.groupby("node", sort=False):
        first, last = rows.iloc[0], rows.iloc[-1]
        commands = int(increase(rows["workload_commands"]))
        out[str(node)] = {
            "role": str(first["role"]),
            "commands": commands,
            "write_commands": writes.get(str(node), 0),
            "ops_per_s": round(commands / duration_s, 1) if duration_s > 0 else 0.0,
            "bytes_out": int(increase(rows["workload_bytes_out"])),
            "bytes_in": int(increase(rows["workload_bytes_in"])),
            "cpu_s": round(increase(rows["cpu_s"]), 3),
            "used_memory_bytes": int(last["used_memory_bytes"]),
        }
    return out


def failures_by_kind(error_frame: pd.DataFrame | None) -> dict[str, dict[str, int]]:
    """Failed reads per error kind: the total and the most in one second (all processes summed)."""
    if error_frame is None or error_frame.empty:
        return {}
    per_second = error_frame.groupby(["kind", "t_s"])["count"].sum()
    by_kind = per_second.groupby(level="kind")
    return {
        str(kind): {"count": int(total), "peak_per_s": int(peak)}
        for kind, total, peak in zip(by_kind.sum().index, by_kind.sum(), by_kind.max(), strict=True)
    }


def refresher_section(refresh_frame: pd.DataFrame, interval_s: float | None) -> dict[str, Any] | None:
    if interval_s is None:
        return None
    ok = refresh_frame[refresh_frame["ok"].astype(bool)] if not refresh_frame.empty else refresh_frame
    count = len(ok)
    durations_ms = ok["duration_s"].to_numpy(dtype=float) * 1000 if count else np.zeros(0)
    return {
        "interval_s": interval_s,
        "refreshes": count,
        "failed_refreshes": len(refresh_frame) - count,
        # Of the refreshes, those that published the top of only the shards that answered.
        "partial_refreshes": int((ok["shards_missing"] > 0).sum()) if count and "shards_missing" in ok else 0,
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


def refresh_spike(refresher: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any] | None:
    """How a refresh compares with the steady read load: its rates while it runs, over the readers'.

    A refresh's commands and bytes arrive within its duration (p50), so its rate while running is
    per-refresh / duration; the steady rates are the reads' Redis-side rates over the whole window.
    """
    duration_s = float(refresher["duration_ms"]["p50"]) / 1000
    if not refresher["refreshes"] or duration_s <= 0:
        return None
    steady_bytes_out_per_s = float(entry["bytes_out_per_request"]) * float(entry["rps"])
    steady_commands_per_s = float(entry["redis_ops_per_s"])
    bytes_out_per_s = float(refresher["bytes_out_per_refresh"]) / duration_s
    commands_per_s = float(refresher["commands_per_refresh"]) / duration_s
    return {
        "bytes_out_per_s": round(bytes_out_per_s, 1),
        "steady_bytes_out_per_s": round(steady_bytes_out_per_s, 1),
        "bytes_out_height": round(bytes_out_per_s / steady_bytes_out_per_s, 2)
        if steady_bytes_out_per_s
        else None,
        "commands_per_s": round(commands_per_s, 1),
        "steady_commands_per_s": round(steady_commands_per_s, 1),
        "commands_height": round(commands_per_s / steady_commands_per_s, 3)
        if steady_commands_per_s
        else None,
    }


def memory_figures(key_bytes: Mapping[str, int] | None, players: int | None) -> dict[str, Any] | None:
    """What the data costs in RAM, from MEMORY USAGE of each key after the strategy's run.

    ``bytes_per_player`` is the shards' leaderboards over the player count; ``cache_vs_shards`` is
    the seed's cached top list (``cache_key``) relative to all shards. Every other key is
    ``<label>_bytes``, None when the run did not write it: ``global_set_bytes`` is the single global
    sorted set (only seeded for strategies that read it), the seed's "RAM limit" point, and each
    other cache format has its own (``cache_blob_bytes``, ``cache_hist_bytes``).
    """
    if not key_bytes:
        return None
    shard_bytes = sum(v for k, v in key_bytes.items() if k.startswith(SHARD_LABEL_PREFIX))
    cache_bytes = int(key_bytes.get(CACHE_KEY_LABEL, 0))
    others = {
        f"{label}_bytes": int(size) or None
        for label, size in key_bytes.items()
        if not label.startswith(SHARD_LABEL_PREFIX) and label != CACHE_KEY_LABEL
    }
    return {
        "shard_key_bytes": shard_bytes,
        "bytes_per_player": round(shard_bytes / players, 1) if players else None,
        "cache_key_bytes": cache_bytes,
        "cache_vs_shards": round(cache_bytes / shard_bytes, 6) if shard_bytes else None,
        **others,
    }


def duration_s_of(workers_frame: pd.DataFrame) -> float:
    """From the first worker's start to the last one's stop; 0 when unknown."""
    duration_s = float(workers_frame["t_stop_s"].max() - workers_frame["t_start_s"].min())
    return duration_s if duration_s > 0 else 0.0  # NaN (no workers) fails the comparison too


def marginal_cpu_s(workers_frame: pd.DataFrame) -> float | None:
    """Generator CPU over the load window above each process's idle rate; None if a process lacks either."""
    columns = ("idle_cpu_s", "idle_wall_s", "window_cpu_s", "window_wall_s")
    if workers_frame.empty or any(c not in workers_frame.columns for c in columns):
        return None
    frame = workers_frame[list(columns)].astype("float64")
    if not ((frame["idle_wall_s"] > 0) & (frame["window_wall_s"] > 0)).all():
        return None  # an older run, or a process stopped before its window closed
    idle_rate = frame["idle_cpu_s"] / frame["idle_wall_s"]
    return float((frame["window_cpu_s"] - idle_rate * frame["window_wall_s"]).sum())


def totals_of(
    workers_frame: pd.DataFrame,
    per_node: dict[str, dict[str, Any]],
    duration_s: float,
    relay_cpu_s: float | None = None,
) -> Totals:
    """The strategy's totals over its window, from workers.json, the per-node deltas and window.json."""
    nodes = per_node.values()
    return Totals(
        requests=int(_total(workers_frame, "requests")),
        failures=int(_total(workers_frame, "failures")),
        partial=int(_total(workers_frame, "partial")),
        fallbacks=int(_total(workers_frame, "fallbacks")),
        duration_s=duration_s,
        # The background writer's ZINCRBYs reach Redis too; its client-side counts take them out.
        redis=Traffic(
            commands=sum(n["commands"] for n in nodes) - _total(workers_frame, "client_write_commands"),
            bytes_out=sum(n["bytes_out"] for n in nodes)
            - _total(workers_frame, "client_write_bytes_received"),
            bytes_in=sum(n["bytes_in"] for n in nodes) - _total(workers_frame, "client_write_bytes_sent"),
        ),
        client=Traffic(
            commands=_total(workers_frame, "client_read_commands"),
            bytes_out=_total(workers_frame, "client_read_bytes_received"),
            bytes_in=_total(workers_frame, "client_read_bytes_sent"),
        ),
        redis_cpu_s=sum(n["cpu_s"] for n in nodes),
        client_cpu_s=_total(workers_frame, "cpu_s"),
        client_cpu_marginal_s=marginal_cpu_s(workers_frame),
        relay_cpu_s=relay_cpu_s,
        redirects=_total(workers_frame, "client_read_redirects"),
    )


def nodes_per_request(per_node: dict[str, dict[str, Any]]) -> int:
    """Nodes serving reads: the writer's ZINCRBYs reach every shard; reads must reach a node too."""
    read_commands = sum(n["commands"] - n["write_commands"] for n in per_node.values())
    return sum(
        1
        for n in per_node.values()
        if read_commands and n["commands"] - n["write_commands"] >= NODE_SHARE_MIN * read_commands
    )


def writes_section(
    workers_frame: pd.DataFrame, histogram: HdrHistogram, read_write_ratio: float | None
) -> dict[str, Any] | None:
    """The background writer's counts and ZINCRBY latency, or None when writes were disabled."""
    if read_write_ratio is None:
        return None
    return {
        "requests": int(_total(workers_frame, "writes")),
        "commands_per_write": _ratio(
            _total(workers_frame, "client_write_commands"), _total(workers_frame, "writes")
        ),
        "failures": int(_total(workers_frame, "write_failures")),
        "latency_us": hdr.hdr_stats(histogram),
        "read_write_ratio": read_write_ratio,
    }
