"""Builds a synthetic run directory (the raw layout the load generator and telemetry write) for unit tests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

from runfiles import (
    COMMANDSTATS_COLUMNS,
    NODE_COLUMNS,
    REFRESH_COLUMNS,
    RunFiles,
    Window,
    write_csv,
    write_json,
    write_jsonl,
)

T0_S = 1_795_796_660.0  # window start, epoch s


def histogram_of(values_us: Iterable[int]) -> HdrHistogram:
    """A histogram with the load generator's layout holding these µs values."""
    histogram = HdrHistogram(1, 60_000_000, 3)
    for value in values_us:
        histogram.record_value(int(value))
    return histogram


def encoded(values_us: Iterable[int]) -> str:
    """HdrHistogram.encode() of these values as the str intervals.jsonl holds ('' when none)."""
    values = list(values_us)
    return histogram_of(values).encode().decode() if values else ""


@dataclass
class Interval:
    """One worker's 1-s interval: µs values per histogram kind plus counters."""

    t_rel_s: float
    values_us: dict[str, list[int]]
    dt_s: float = 1.0
    failures: int = 0
    write_failures: int = 0
    cpu_percent: float = 40.0
    requests: int | None = None  # default: one per corrected value
    users: dict[str, Any] = field(default_factory=dict)  # exhausted, exhausted_first_s, ...: schema 4

    def record(self, worker: str) -> dict[str, Any]:
        """The intervals.jsonl line."""
        return {
            "worker": worker,
            "t_s": T0_S + self.t_rel_s,
            "dt_s": self.dt_s,
            "requests": self.request_count,
            "failures": self.failures,
            "writes": len(self.values_us.get("write", [])),
            "write_failures": self.write_failures,
            "cpu_percent": self.cpu_percent,
            **self.users,
            "hist": {kind: encoded(values) for kind, values in self.values_us.items()},
        }

    @property
    def request_count(self) -> int:
        """Successful requests in the interval."""
        return len(self.values_us.get("corrected", [])) if self.requests is None else self.requests


@dataclass
class Worker:
    """One Locust worker process: its intervals and its workers.json entry's totals."""

    name: str
    intervals: list[Interval]
    cpu_s: float = 1.0
    client: dict[str, float] = field(default_factory=dict)
    t_start_rel_s: float | None = None  # default: first interval start
    t_stop_rel_s: float | None = None  # default: last interval end
    window_cpu_s: float | None = None  # with window_wall_s: the process's CPU over its load window
    window_wall_s: float | None = None

    def entry(self) -> dict[str, Any]:
        """The workers.json object."""
        first, last = self.intervals[0], self.intervals[-1]
        start = first.t_rel_s if self.t_start_rel_s is None else self.t_start_rel_s
        stop = last.t_rel_s + last.dt_s if self.t_stop_rel_s is None else self.t_stop_rel_s
        return {
            "worker": self.name,
            "pid": 1000 + len(self.name),
            "host": "testhost",
            "requests": sum(i.request_count for i in self.intervals),
            "failures": sum(i.failures for i in self.intervals),
            "writes": sum(len(i.values_us.get("write", [])) for i in self.intervals),
            "write_failures": sum(i.write_failures for i in self.intervals),
            "cpu_s": self.cpu_s,
            "t_start_s": T0_S + start,
            "t_stop_s": T0_S + stop,
            "intended": None,
            "client": self.client,
            "errors": {"ConnectionError: reset": 1} if any(i.failures for i in self.intervals) else {},
        } | (
            {}
            if self.window_cpu_s is None
            else {"window_cpu_s": self.window_cpu_s, "window_wall_s": self.window_wall_s}
        )


@dataclass
class Redis:
    """Redis-side totals over the window, spread evenly over the named nodes."""

    commands: int
    bytes_out: int
    bytes_in: int
    cpu_s: float = 1.0
    nodes: tuple[str, ...] = tuple(f"shard-{i}" for i in range(10))


def _node_rows(redis: Redis, duration_s: float) -> list[dict[str, Any]]:
    """Two cumulative samples per node (window start and stop); node 0 takes the remainders."""
    rows = []
    count = len(redis.nodes)
    for i, node in enumerate(redis.nodes):
        share = {
            key: total // count + (total % count if i == 0 else 0)
            for key, total in (("c", redis.commands), ("o", redis.bytes_out), ("i", redis.bytes_in))
        }
        for t_rel_s, k in ((0.0, 0), (duration_s, 1)):
            # Counters start at arbitrary non-zero values, as a live server's do.
            rows.append(
                {
                    "t_s": T0_S + t_rel_s,
                    "node": node,
                    "role": "cache" if node == "cache" else "shard",
                    "commands": 500 + k * share["c"],
                    "workload_commands": 100 + k * share["c"],
                    "bytes_in": 9000 + k * share["i"],
                    "bytes_out": 7000 + k * share["o"],
                    "workload_bytes_in": 900 + k * share["i"],
                    "workload_bytes_out": 700 + k * share["o"],
                    "refresher_commands": 0,
                    "cpu_s": 2.0 + k * redis.cpu_s / count,
                    "used_memory_bytes": 1_000_000,
                    "instantaneous_ops_per_sec": 0,
                }
            )
    return rows


def write_run(root: Path, strategies: dict[str, tuple[list[Worker], Redis, dict[str, Any]]]) -> Path:
    """Write meta.json and raw/<strategy>/ for each (workers, redis, window overrides); returns root."""
    root.mkdir(parents=True, exist_ok=True)
    files = RunFiles(root)
    meta = {
        "run_id": root.name,
        "created_utc": "2026-11-27T16:30:53+00:00",
        "server": "valkey-server 8.1.8",
        "strategies": list(strategies),
        "options": {"players": 1000, "shards": 10, "seed": 42, "duration_s": 10.0, "users": 4},
        "cache_top_n": 1000,
    }
    write_json(files.meta, meta)
    for name, (workers, redis, overrides) in strategies.items():
        phase = files.phase(name)
        phase.dir.mkdir(parents=True)
        duration_s = max(w.entry()["t_stop_s"] for w in workers) - T0_S
        window = {
            "strategy": name,
            "users": 4,
            "duration_s": duration_s,
            "refresh_interval_s": None,
            "locust_returncode": 0,
            "t_start_s": T0_S,
            "t_stop_s": T0_S + duration_s,
            "mode": "closed",
            "target_rps": None,
            "workers": len(workers),
            "read_write_ratio": None,
            "lag_p99_limit_us": 10_000,
            "cpu_limit_percent": 90,
        } | overrides
        write_json(phase.window, Window.from_json(window).to_json())
        write_json(phase.workers, [w.entry() for w in workers])
        write_jsonl(phase.intervals, [i.record(w.name) for w in workers for i in w.intervals])
        write_csv(phase.nodes, NODE_COLUMNS, _node_rows(redis, duration_s))
        commandstats = [
            {"t_s": T0_S, "node": n, "command": "zrange", "calls": 1, "usec": 5} for n in redis.nodes
        ]
        write_csv(phase.commandstats, COMMANDSTATS_COLUMNS, commandstats)
        write_csv(phase.refreshes, REFRESH_COLUMNS, [])
    return root


def steady_worker(
    name: str, seconds: int, per_s: int, latency_us: int = 300, cpu_percent: float = 40.0
) -> Worker:
    """A worker completing per_s requests every second, each taking latency_us, sent on time."""
    intervals = [
        Interval(
            float(k),
            {"corrected": [latency_us] * per_s, "raw": [latency_us] * per_s, "lag": [5] * per_s},
            cpu_percent=cpu_percent,
        )
        for k in range(seconds)
    ]
    return Worker(name, intervals)
