"""One strategy's load phase: what runs beside the swarm, the swarm, and the raw files it leaves."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from bench.cache.refresher import CacheRefresher, RefresherThread
from bench.console import PhaseClock, status
from bench.errors import RunError
from bench.faults.schedule import FaultScheduler
from bench.keys import Keys
from bench.probes.rankcheck import rank_check
from bench.probes.staleness import StalenessProbe
from bench.probes.telemetry import TelemetrySampler, key_memory_bytes
from bench.run.loadconfig import PHASE_ERROR_MARKER, LoadConfig
from bench.run.options import CompareOptions
from bench.run.swarm import LOCAL_WORKERS_WAIT_S, LocustResult, MasterBind, run_locust
from bench.run.writemodel import hot_players
from bench.strategies import get_strategy
from bench.topology import Topology
from runfiles import (
    COMMANDSTATS_COLUMNS,
    FAULT_COLUMNS,
    NODE_COLUMNS,
    REFRESH_COLUMNS,
    STALENESS_COLUMNS,
    PhaseFiles,
    Window,
    write_csv,
    write_json,
)

# Saturation guard (analysis/figures/summary.py applies it; the limits travel in window.json).
# With the select event loop, schedule lag p99 stayed at 0.2-1.7 ms while the generator kept up
# (naive <= 1,000 req/s, cached 10,000 req/s) and reached 2-34 ms once it fell behind
# (docs/methodology.md).
LAG_P99_LIMIT_US = 2_000
CPU_LIMIT_PERCENT = 90.0


def _processes(options: CompareOptions) -> str:
    """The swarm in words, for the phase's status line."""
    local, remote = options.local_workers, options.remote_workers
    if not remote:
        return f"{local} Locust workers" if local > 1 else "1 Locust process"
    workers = f"{remote} remote + {local} local" if local else f"{remote} remote"
    return f"{workers} Locust workers (master on {options.master_bind})"


def load_config(
    options: CompareOptions,
    strategy: str,
    topology: dict[str, Any],
    raw_dir: str,
    hot: list[tuple[int, float]] | None = None,
) -> LoadConfig:
    """What each Locust process is told for ``strategy``'s phase of a run with these options.

    Args:
        topology: ``Topology.to_load_config()``.
    """
    return LoadConfig(
        strategy=strategy,
        topology=topology,
        raw_dir=raw_dir,
        duration_s=options.duration_s,
        rps=options.rps,
        workers=options.load_processes,
        remote_workers=options.remote_workers,
        workers_wait_s=options.remote_workers_wait_s if options.remote_workers else LOCAL_WORKERS_WAIT_S,
        read_write_ratio=options.read_write_ratio,
        players=options.players,
        key_prefix=options.key_prefix,
        top_n=options.top_n,
        sample_every=options.sample_every,
        hot_players=hot or [],
        hot_write_share=options.hot_write_share if hot else 0.0,
        naive_on_shard_error=options.naive_on_shard_error,
        cached_fallback=options.cached_fallback,
        read_extra_cpu_us=options.read_extra_cpu_us,
        max_users=options.max_user_count,
    )


class Background:
    """What runs beside the swarm: the cache refresher, the staleness probe and the telemetry sampler.

    Strategies without a cache read the shards or a synchronously written set: fresh by
    construction, so they get neither refresher nor probe.
    """

    def __init__(self, topology: Topology, keys: Keys, name: str, options: CompareOptions) -> None:
        strategy = get_strategy(name)
        self.relay_cpu = topology.relay_cpu_s
        self.relay_cpu_s: float | None = None  # over start()..stop(), where something relays traffic
        self.refresher: CacheRefresher | None = None
        self.thread: RefresherThread | None = None
        self.probe: StalenessProbe | None = None
        try:
            if strategy.needs_refresher:
                self.refresher = CacheRefresher(
                    topology, keys, strategy.cache_formats, partial=options.failure_policy.refresh_partial
                )
                first = self.refresher.refresh()  # readers start with a full cache; outside the window
                ms = first.duration_s * 1000
                status(f"{name}: cache primed with {first.entries} entries in {ms:.1f} ms")
                self.thread = RefresherThread(self.refresher, options.refresh_interval_s)
                self.probe = StalenessProbe(topology, keys, name, options.top_n)
            self.sampler = TelemetrySampler(
                topology,
                refresher=self.refresher.counters if self.refresher else None,
                others=[self.probe.counters] if self.probe else [],
                pre_sample=self.probe.sample if self.probe else None,
                refresher_busy=self.thread.busy if self.thread else None,
            )
        except BaseException:
            self.close()
            raise

    def start(self) -> None:
        if self.relay_cpu is not None:
            self.relay_cpu_s = -self.relay_cpu()
        self.sampler.start()
        if self.thread is not None:
            self.thread.start()

    def stop(self) -> None:
        """Stop the refresher, take the closing telemetry sample, release every connection."""
        try:
            if self.thread is not None:
                self.thread.stop()
            self.sampler.stop()
            if self.relay_cpu is not None and self.relay_cpu_s is not None:
                self.relay_cpu_s += self.relay_cpu()
        finally:
            self.close()

    def close(self) -> None:
        for part in (self.refresher, self.probe):
            if part is not None:
                part.close()


class Phase:
    """Loads one strategy for ``options.duration_s`` while sampling; writes ``raw/<strategy>/``."""

    def __init__(self, topology: Topology, options: CompareOptions, name: str, files: PhaseFiles) -> None:
        self.topology = topology
        self.options = options
        self.name = name
        self.files = files
        self.keys = Keys(options.key_prefix)

    def run(self) -> Window:
        self.files.dir.mkdir(parents=True)
        config = self._load_config()
        background = Background(self.topology, self.keys, self.name, self.options)
        faults: FaultScheduler | None = None
        try:
            plan = self.options.fault_plan()
            if plan:
                faults = FaultScheduler(plan, self.topology, self.keys, self.files, background.thread)
                faults.arm()
            background.start()
            if faults is not None:
                faults.start()
            result = self._swarm(config)
            if faults is not None:
                faults.stop(heal=True)  # before the closing sample and the checks: healthy nodes
        finally:
            if faults is not None:
                faults.stop(heal=False)  # after an error or Ctrl-C: the servers must be stoppable
            background.stop()
        if faults is not None:
            write_csv(self.files.faults, FAULT_COLUMNS, faults.rows)
        self._check(result, background)
        options = self.options
        check = rank_check(self.topology, self.keys, self.name, options.players, options.seed)
        write_json(self.files.rank, check)
        return self._write(background, config, result)

    def _load_config(self) -> LoadConfig:
        options = self.options
        writes_hot = options.read_write_ratio and options.hot_write_share
        hot = hot_players(self.topology, self.keys) if writes_hot else []
        return load_config(options, self.name, self.topology.to_load_config(), str(self.files.dir), hot)

    def _swarm(self, config: LoadConfig) -> LocustResult:
        options = self.options
        pace = f"open loop at {options.rps:g} req/s" if options.rps else "closed loop"
        bind = MasterBind.parse(options.master_bind) if options.master_bind else None
        users = options.user_count
        status(f"{self.name}: {users} users, {pace}, {_processes(options)}, {options.duration_s:g} s")
        with PhaseClock(f"{self.name} load", options.duration_s) as clock:
            return run_locust(config, users=users, files=self.files, tick=clock.tick, bind=bind)

    def _check(self, result: LocustResult, background: Background) -> None:
        """Every load-generator process reported, and the sampler kept sampling."""
        lines = self.files.locust_log.read_text(errors="replace").strip().splitlines()
        # The locustfile says why a phase could not run (too few workers, a latecomer) after a marker.
        reasons = [line.partition(PHASE_ERROR_MARKER)[2] for line in lines if PHASE_ERROR_MARKER in line]
        if reasons:
            raise RunError(f"{self.name}: {reasons[-1]}")
        reports, expected = len(self.files.read_workers()), self.options.load_processes
        if reports != expected:
            log = " | ".join(lines[-3:])
            got = f": {reports} of {expected} processes reported" if reports else " did not report"
            raise RunError(f"Locust (exit {result.returncode}){got} for {self.name}: {log}")
        if background.sampler.error:
            raise RunError(background.sampler.error)

    def _write(self, background: Background, config: LoadConfig, result: LocustResult) -> Window:
        sampler, options = background.sampler, self.options
        write_csv(self.files.nodes, NODE_COLUMNS, sampler.node_rows)
        write_csv(self.files.commandstats, COMMANDSTATS_COLUMNS, sampler.command_rows)
        refreshes = background.thread.records if background.thread is not None else []
        write_csv(self.files.refreshes, REFRESH_COLUMNS, [asdict(r) for r in refreshes])
        if background.probe is not None:
            write_csv(self.files.staleness, STALENESS_COLUMNS, background.probe.rows)
        window = Window(
            strategy=self.name,
            users=options.user_count,
            duration_s=options.duration_s,
            t_start_s=sampler.node_rows[0]["t_s"],
            t_stop_s=sampler.node_rows[-1]["t_s"],
            mode="open" if options.rps else "closed",
            target_rps=options.rps,
            workers=options.load_processes,
            read_write_ratio=options.read_write_ratio,
            hot_write_share=config.hot_write_share,
            lag_p99_limit_us=LAG_P99_LIMIT_US,
            cpu_limit_percent=CPU_LIMIT_PERCENT,
            refresh_interval_s=options.refresh_interval_s if background.thread is not None else None,
            locust_returncode=result.returncode,
            players=options.players,
            key_memory_bytes=key_memory_bytes(self.topology, self.keys),
            relay_cpu_s=background.relay_cpu_s,
        )
        write_json(self.files.window, window.to_json())
        return window
