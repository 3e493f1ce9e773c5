"""The run directory's format, declared once: what bench and loadgen write and analysis reads.

Layout of a run directory (docs/run-directory.md)::

    meta.json                  how and where the run was made (bench)
    summary.json, report.md    built from raw/ by analysis (and rebuilt by `lbbench report`)
    report.html                report.md as one self-contained page, the answer first (analysis/page)
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

A sweep directory holds sweep.json and points/<param>=<value>/, each a run directory; a netcheck
directory holds direct/ and relay-<profile>/ runs and netcheck.md/netcheck.json; each has a
report.html of its Markdown (sweep.md, netcheck.md) too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runfiles.io import read_json
from runfiles.records import Window

# Bumped whenever a file below changes shape; meta.json and summary.json both carry it.
SCHEMA_VERSION = 4

META = "meta.json"
SUMMARY = "summary.json"
REPORT = "report.md"
REPORT_HTML = "report.html"  # the report of every kind of directory, for a browser
GATE = "gate.json"
CAPACITY = "capacity.json"
SCENARIO = "scenario.toml"  # the run's options by flag name: `lbbench compare --config` runs it again
SWEEP = "sweep.json"
SWEEP_POINTS = "points"
SWEEP_MD = "sweep.md"
RAW = "raw"
# A --tls run on the harness's own servers: naive and cached again in the clear, on the same server
# build, as a run directory of its own inside the run (the report's TLS section compares the two).
CLEAR_BASELINE = "clear"

# A netcheck directory (`lbbench netcheck`): one run direct, then one through each profile's relays
# (RELAY_PREFIX + profile), the RTT the relays achieved beside each, and the comparison.
DIRECT = "direct"
RELAY_PREFIX = "relay-"
ACHIEVED_PROFILE = "achieved-rtt.toml"
NETCHECK_JSON = "netcheck.json"
NETCHECK_MD = "netcheck.md"

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


def relay_run(profile: str) -> str:
    """The run directory of a netcheck's run through ``profile``'s relays."""
    return f"{RELAY_PREFIX}{profile}"


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
    report_html = _File(REPORT_HTML)
    gate = _File(GATE)
    capacity = _File(CAPACITY)
    scenario = _File(SCENARIO)
    raw = _File(RAW)

    def phase(self, strategy: str) -> PhaseFiles:
        return PhaseFiles(self.raw / strategy)

    @property
    def clear_baseline(self) -> RunFiles:
        return RunFiles(self.dir / CLEAR_BASELINE)

    def is_run(self) -> bool:
        return self.meta.is_file() and self.raw.is_dir()

    def strategies(self) -> list[str]:
        """Strategy names in run order (meta.json's list, falling back to the raw folders)."""
        if self.meta.exists():
            names = read_json(self.meta).get("strategies")
            if names:
                return [name for name in names if self.phase(name).dir.is_dir()]
        return sorted(p.name for p in self.raw.iterdir() if p.is_dir())
