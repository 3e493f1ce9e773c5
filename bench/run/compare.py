"""`lbbench compare`: seed, then run each strategy under a Locust swarm while sampling every node."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bench.cache.refresher import REFRESH_COLUMNS, REFRESH_INTERVAL_S, CacheRefresher, RefresherThread
from bench.console import PhaseClock, status
from bench.errors import UsageError
from bench.keys import Keys
from bench.probes.meta import run_meta, utc_now
from bench.probes.rankcheck import write_rank_check
from bench.probes.staleness import STALENESS_COLUMNS, StalenessProbe
from bench.probes.telemetry import TelemetrySampler, key_memory_bytes
from bench.run.loadconfig import LoadConfig
from bench.run.swarm import run_locust
from bench.run.writemodel import HOT_WRITE_SHARE, hot_players
from bench.seeding.seed import clear, existing_keys, seed_with_progress
from bench.strategies import get_strategy
from bench.topology.base import Topology, TopologyOptions, open_topology

SCHEMA_VERSION = 2
MAX_WORKERS = 64
# Saturation guard (analysis/summary.py applies it; the limits travel in window.json).
# With the select event loop, schedule lag p99 stayed at 0.2-1.7 ms while the generator kept up
# (naive <= 1,000 req/s, cached 10,000 req/s) and reached 2-34 ms once it fell behind (README).
LAG_P99_LIMIT_US = 2_000
CPU_LIMIT_PERCENT = 90.0


@dataclass(frozen=True)
class CompareOptions:
    """Everything `lbbench compare` was asked to do."""

    strategies: list[str] = field(default_factory=lambda: ["naive", "cached"])
    players: int = 1_000_000
    seed: int = 42
    duration_s: float = 60.0
    users: int = 20
    rps: float | None = 500.0
    workers: int = 1
    read_write_ratio: int | None = 1000
    refresh_interval_s: float = REFRESH_INTERVAL_S
    top_n: int = 100
    hot_write_share: float = HOT_WRITE_SHARE
    key_prefix: str = Keys().prefix
    out: Path | None = None
    overwrite: bool = False
    keep_data: bool = False
    topology: TopologyOptions = field(default_factory=TopologyOptions)

    def validate(self) -> None:
        for name in self.strategies:
            get_strategy(name)
        checks = [
            (self.players >= 1, f"--players must be at least 1, got {self.players}"),
            (self.duration_s >= 1, f"--duration must be at least 1 second, got {self.duration_s:g}"),
            (self.users >= 1, f"--users must be at least 1, got {self.users}"),
            (self.rps is None or self.rps > 0, f"--rps must be positive (0 = closed loop), got {self.rps}"),
            (
                1 <= self.workers <= MAX_WORKERS,
                f"--workers must be between 1 and {MAX_WORKERS}, got {self.workers}",
            ),
            (
                self.read_write_ratio is None or self.read_write_ratio >= 1,
                f"--read-write-ratio must be at least 1 (0 turns writes off), got {self.read_write_ratio}",
            ),
            (
                self.refresh_interval_s > 0,
                f"--refresh-interval must be positive, got {self.refresh_interval_s:g}",
            ),
            (1 <= self.top_n <= 1000, f"--top-n must be between 1 and 1000, got {self.top_n}"),
            (
                0 <= self.hot_write_share <= 1,
                f"--hot-write-share must be between 0 and 1, got {self.hot_write_share:g}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise UsageError(message)
        self.topology.validate()

    def as_json(self) -> dict[str, Any]:
        """Options for meta.json, with URLs redacted."""
        data = asdict(self)
        data["out"] = str(self.out) if self.out else None
        topo = data.pop("topology")
        data["shards"] = self.topology.shard_count
        data["server_bin"] = topo["server_bin"]
        data["provider"] = "external" if self.topology.shard_urls else "local"
        return data


def new_run_id(strategies: list[str]) -> str:
    return f"{utc_now():%Y%m%dT%H%M%SZ}-{'-'.join(strategies)}"


class RunDir:
    """A run directory written under ``<final>.partial`` and renamed only once its raw data is complete."""

    def __init__(self, final: Path) -> None:
        self.final = final
        self.partial = final.with_name(final.name + ".partial")

    def create(self) -> Path:
        if self.final.exists() and any(self.final.iterdir()):
            raise UsageError(f"--out {self.final} already exists and is not empty")
        try:
            self.final.parent.mkdir(parents=True, exist_ok=True)
            if self.partial.exists():
                shutil.rmtree(self.partial)
            self.partial.mkdir()
        except (FileExistsError, NotADirectoryError):
            raise UsageError(f"cannot write to {self.final}: part of that path is a file") from None
        except OSError as exc:
            raise UsageError(f"cannot write to {self.final}: {exc.strerror}") from None
        return self.partial

    def commit(self) -> Path:
        if self.final.exists():
            self.final.rmdir()  # create() checked it is empty
        self.partial.rename(self.final)
        return self.final

    def discard(self) -> None:
        shutil.rmtree(self.partial, ignore_errors=True)


def run_order(strategies: list[str]) -> list[str]:
    """Strategies that read the global set first: the others' writers update only the shards.

    The global set is seeded once and then kept in step only by the `global` strategy's own
    writes, so a phase that reads it after another phase's writes would see stale scores.
    """
    first = [n for n in strategies if get_strategy(n).needs_global_set]
    order = first + [n for n in strategies if n not in first]
    if order != strategies:
        status(f"run order {', '.join(order)}: the global set is read before other phases' writes miss it")
    return order


def run_phase(topology: Topology, options: CompareOptions, name: str, run_dir: Path) -> dict[str, Any]:
    """Load one strategy for options.duration_s while sampling telemetry; write its raw data."""
    strategy = get_strategy(name)
    keys = Keys(options.key_prefix)
    raw_dir = run_dir / "raw" / name
    raw_dir.mkdir(parents=True)
    refresher = CacheRefresher(topology, keys, strategy.cache_layout()) if strategy.needs_refresher else None
    thread = None
    if refresher is not None:
        first = refresher.refresh()  # readers start with a full cache; this one is outside the window
        status(f"{name}: cache primed with {first.entries} entries in {first.duration_s * 1000:.1f} ms")
        thread = RefresherThread(refresher, options.refresh_interval_s)
    # Strategies without a cache read the shards or a synchronously written set: fresh by construction.
    probe = StalenessProbe(topology, keys, name, options.top_n) if strategy.needs_refresher else None
    sampler = TelemetrySampler(topology, refresher.counters if refresher else None, probe=probe)
    hot = hot_players(topology, keys) if options.read_write_ratio and options.hot_write_share else []
    config = LoadConfig(
        strategy=name,
        shard_urls=[e.url for e in topology.shards],
        cache_url=topology.cache.url,
        raw_dir=str(raw_dir),
        duration_s=options.duration_s,
        rps=options.rps,
        workers=options.workers,
        read_write_ratio=options.read_write_ratio,
        players=options.players,
        key_prefix=options.key_prefix,
        top_n=options.top_n,
        hot_players=hot,
        hot_write_share=options.hot_write_share if hot else 0.0,
    )
    pace = f"open loop at {options.rps:g} req/s" if options.rps else "closed loop"
    procs = f"{options.workers} Locust workers" if options.workers > 1 else "1 Locust process"
    status(f"{name}: {options.users} users, {pace}, {procs}, {options.duration_s:g} s")
    sampler.start()
    if thread is not None:
        thread.start()
    try:
        with PhaseClock(f"{name} load", options.duration_s) as clock:
            result = run_locust(
                config, users=options.users, log_dir=raw_dir, csv_prefix=raw_dir / "locust", tick=clock.tick
            )
    finally:
        if thread is not None:
            thread.stop()
        sampler.stop()
        if refresher is not None:
            refresher.close()
        if probe is not None:
            probe.close()
    reports = raw_dir / "workers.json"
    if not reports.exists() or len(json.loads(reports.read_text())) != options.workers:
        tail = (raw_dir / "locust.log").read_text(errors="replace").strip().splitlines()[-3:]
        raise RuntimeError(f"Locust (exit {result.returncode}) did not report for {name}: {' | '.join(tail)}")
    if sampler.error:
        raise RuntimeError(sampler.error)
    write_rank_check(topology, keys, name, raw_dir, players=options.players, seed=options.seed)
    pd.DataFrame(sampler.node_rows).to_csv(raw_dir / "nodes.csv", index=False)
    pd.DataFrame(sampler.command_rows).to_csv(raw_dir / "commandstats.csv", index=False)
    refresh_rows = thread.rows() if thread is not None else []
    pd.DataFrame(refresh_rows, columns=REFRESH_COLUMNS).to_csv(raw_dir / "refreshes.csv", index=False)
    if probe is not None:
        pd.DataFrame(probe.rows, columns=STALENESS_COLUMNS).to_csv(raw_dir / "staleness.csv", index=False)
    window = {
        "strategy": name,
        "users": options.users,
        "duration_s": options.duration_s,
        "mode": "open" if options.rps else "closed",
        "target_rps": options.rps,
        "workers": options.workers,
        "read_write_ratio": options.read_write_ratio,
        "hot_write_share": config.hot_write_share,
        "lag_p99_limit_us": LAG_P99_LIMIT_US,
        "cpu_limit_percent": CPU_LIMIT_PERCENT,
        "refresh_interval_s": options.refresh_interval_s if thread is not None else None,
        "locust_returncode": result.returncode,
        "players": options.players,
        "key_memory_bytes": key_memory_bytes(topology, keys),
        "t_start_s": sampler.node_rows[0]["t_s"],
        "t_stop_s": sampler.node_rows[-1]["t_s"],
    }
    (raw_dir / "window.json").write_text(json.dumps(window, indent=1))
    return window


def compare(options: CompareOptions) -> Path:
    """Run the whole comparison; returns the run directory (raw data, then summary and report)."""
    options.validate()
    run_id = new_run_id(options.strategies)
    run = RunDir(options.out or Path("results") / run_id)
    run_dir = run.create()
    try:
        with open_topology(options.topology) as topology:
            keys = Keys(options.key_prefix)
            if topology.provider == "external" and not options.overwrite:
                found = existing_keys(topology, keys)
                if found:
                    hint = "pass --overwrite to replace it or --key-prefix to use other keys"
                    raise UsageError(f"{found[0]} already exists; {hint}")
            status(f"topology: {topology.provider}, {len(topology.shards)} shards + cache, {topology.server}")
            try:
                global_set = any(get_strategy(n).needs_global_set for n in options.strategies)
                result = seed_with_progress(
                    topology, keys, options.players, options.seed, global_set=global_set
                )
                status(
                    f"seeded {result.players:,} players in {result.seconds:.1f} s "
                    f"({result.players_per_s:,.0f}/s)"
                )
                meta = run_meta(run_id, options.as_json(), topology.describe())
                meta["schema_version"] = SCHEMA_VERSION
                order = run_order(options.strategies)
                meta["strategies"] = order
                (run_dir / "meta.json").write_text(json.dumps(meta, indent=1))
                for name in order:
                    run_phase(topology, options, name, run_dir)
            finally:
                if topology.provider == "external" and not options.keep_data:
                    clear(topology, keys)
    except BaseException:
        run.discard()
        raise
    return run.commit()
