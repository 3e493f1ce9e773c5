"""The run directory's format, declared once: what bench and loadgen write and analysis reads.

Layout of a run directory (docs/run-directory.md)::

    meta.json                  how and where the run was made (bench)
    summary.json, report.md    built from raw/ by analysis (and rebuilt by `lbbench report`)
    gate.json                  `lbbench gate`'s verdict, when a gate ran
    capacity.json              what one node serves of each read command (bench/probes/capacity.py)
    raw/<strategy>/            one load phase:
        window.json            the phase's settings and window (Window)
        intervals.jsonl        one line per load-generator process and second (loadgen)
        workers.json           one final report per load-generator process (loadgen)
        nodes.csv              INFO samples of every node (NODE_COLUMNS)
        commandstats.csv       commandstats samples (COMMANDSTATS_COLUMNS)
        refreshes.csv          background cache refreshes (REFRESH_COLUMNS)
        staleness.csv          staleness samples, cached strategies only (STALENESS_COLUMNS)
        rank.json              the rank check after the load (RANK_FIELDS)
        faults.csv             fault actions, when --fault was given (FAULT_COLUMNS)
        load-start             epoch seconds of the phase's first request (LOAD_START; faults' clock)
        locust*.log            the Locust processes' output

This module is the bottom of the dependency graph: bench and loadgen import it to write, analysis to
read, and it imports nothing of theirs. It stays light (no pandas) because every Locust process
loads it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

from analysis.runcolumns import (  # the files' columns, declared apart to keep this module small
    CLIENT_FIELDS as CLIENT_FIELDS,
    COMMANDSTATS_COLUMNS as COMMANDSTATS_COLUMNS,
    FAULT_COLUMNS as FAULT_COLUMNS,
    INTERVAL_FIELDS as INTERVAL_FIELDS,
    NODE_COLUMNS as NODE_COLUMNS,
    RANK_FIELDS as RANK_FIELDS,
    REFRESH_COLUMNS as REFRESH_COLUMNS,
    REPLY_SAMPLE_FIELDS as REPLY_SAMPLE_FIELDS,
    STALENESS_COLUMNS as STALENESS_COLUMNS,
    WORKER_FIELDS as WORKER_FIELDS,
)

# Bumped whenever a file below changes shape; meta.json and summary.json both carry it.
SCHEMA_VERSION = 4

META = "meta.json"
SUMMARY = "summary.json"
REPORT = "report.md"
GATE = "gate.json"
CAPACITY = "capacity.json"
SCENARIO = "scenario.toml"  # the run's options by flag name: `lbbench compare --config` runs it again
SWEEP = "sweep.json"
SWEEP_POINTS = "points"
RAW = "raw"

WINDOW = "window.json"
INTERVALS = "intervals.jsonl"
WORKERS = "workers.json"
NODES = "nodes.csv"
COMMANDSTATS = "commandstats.csv"
REFRESHES = "refreshes.csv"
STALENESS = "staleness.csv"
RANK = "rank.json"
FAULTS = "faults.csv"
LOAD_START = "load-start"
LOCUST_LOG = "locust.log"
LOCUST_CSV_PREFIX = "locust"  # Locust's own --csv files: <prefix>_stats.csv, ...

# Latency histograms in µs: corrected (from the intended start), raw (from the send), schedule lag
# (send - intended start), the generator's own part of that lag (gen_lag: send - the later of the
# intended start and the moment a free user took the slot; absent before schema 4), and the
# background writer's ZINCRBYs. 1 µs to 60 s at 3 significant digits.
HDR_KINDS = ("corrected", "raw", "lag", "gen_lag", "write")
HDR_LOWEST_US = 1
HDR_HIGHEST_US = 60_000_000
HDR_SIGNIFICANT_DIGITS = 3

# window.json key_memory_bytes: shard leaderboards are labelled by node name, the seed's cached
# sorted set by CACHE_KEY_LABEL; every other key by its own label (summary: memory.<label>_bytes).
SHARD_LABEL_PREFIX = "shard-"
CACHE_KEY_LABEL = "cache_key"

# Commands a connection sends once at set-up, or the telemetry sampler sends: never workload.
SETUP_COMMANDS = frozenset({"hello", "auth", "select", "info"})


def new_histogram() -> HdrHistogram:
    """An empty histogram with the run files' layout."""
    return HdrHistogram(HDR_LOWEST_US, HDR_HIGHEST_US, HDR_SIGNIFICANT_DIGITS)


def is_setup_command(command: str) -> bool:
    """Whether a commandstats name is set-up or sampling traffic (``client|...`` included)."""
    return command in SETUP_COMMANDS or command.startswith("client|")


@dataclass(frozen=True)
class Window:
    """window.json: one phase's settings, the guard's limits, and its window on the wall clock."""

    strategy: str
    users: int
    duration_s: float
    t_start_s: float  # first telemetry sample (epoch s)
    t_stop_s: float  # last telemetry sample
    mode: str = "closed"  # "open" (paced at target_rps) or "closed"
    target_rps: float | None = None
    workers: int = 1
    read_write_ratio: int | None = None
    hot_write_share: float = 0.0
    lag_p99_limit_us: float | None = None
    cpu_limit_percent: float | None = None
    refresh_interval_s: float | None = None  # None: no background refresher in this phase
    locust_returncode: int | None = None
    players: int | None = None
    key_memory_bytes: dict[str, int] = field(default_factory=dict)  # memory label -> MEMORY USAGE
    # CPU seconds of the processes relaying traffic between harness and servers (docker-proxy) over
    # the phase; None when nothing relays it (spawned servers, host-network containers, ...).
    relay_cpu_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Window:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


class _File:
    """A file of a run or phase directory, read as an attribute: ``files.window`` is a Path."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, files: _Dir, owner: type[_Dir]) -> Path:
        return files.dir / self.name


@dataclass(frozen=True)
class _Dir:
    dir: Path


@dataclass(frozen=True)
class PhaseFiles(_Dir):
    """The files of one strategy's phase, ``raw/<strategy>/``."""

    window = _File(WINDOW)
    intervals = _File(INTERVALS)
    workers = _File(WORKERS)
    nodes = _File(NODES)
    commandstats = _File(COMMANDSTATS)
    refreshes = _File(REFRESHES)
    staleness = _File(STALENESS)
    rank = _File(RANK)
    faults = _File(FAULTS)
    load_start = _File(LOAD_START)
    locust_log = _File(LOCUST_LOG)
    locust_csv_prefix = _File(LOCUST_CSV_PREFIX)

    def worker_log(self, index: int) -> Path:
        return self.dir / f"locust-worker-{index}.log"

    def read_window(self) -> Window:
        return Window.from_json(read_json(self.window))

    def read_workers(self) -> list[dict[str, Any]]:
        """workers.json's entries; none when the file is missing (no process reported)."""
        if not self.workers.exists():
            return []
        entries: list[dict[str, Any]] = json.loads(self.workers.read_text())
        return entries


@dataclass(frozen=True)
class RunFiles(_Dir):
    """The files of one run directory."""

    meta = _File(META)
    summary = _File(SUMMARY)
    report = _File(REPORT)
    gate = _File(GATE)
    capacity = _File(CAPACITY)
    scenario = _File(SCENARIO)
    raw = _File(RAW)

    def phase(self, strategy: str) -> PhaseFiles:
        return PhaseFiles(self.raw / strategy)

    def is_run(self) -> bool:
        return self.meta.is_file() and self.raw.is_dir()

    def strategies(self) -> list[str]:
        """Strategy names in run order (meta.json's list, falling back to the raw folders)."""
        if self.meta.exists():
            names = read_json(self.meta).get("strategies")
            if names:
                return [name for name in names if self.phase(name).dir.is_dir()]
        return sorted(p.name for p in self.raw.iterdir() if p.is_dir())


def read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1) + "\n")


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    with path.open("w") as out:
        for row in rows:
            out.write(json.dumps(row) + "\n")


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Rows as CSV under ``columns``; a row with a key outside them raises (the contract drifted)."""
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="raise")
        writer.writeheader()
        writer.writerows(rows)
