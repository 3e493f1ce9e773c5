"""A plan: what each strategy needs at a target tier, projected from runs measured on this machine.

From the measured runs (figures/costfit.py fits their CPU per second over rate and shard count):

- **Commands and bytes per request**: as measured; naive's grow in proportion to the shards (each
  shard answers once), every strategy's reply bytes in proportion to the top n.
- **Redis**: a node serves what the capacity probe showed one node serves of the strategy's read
  command at p99 <= 1 ms (capacity.json); a strategy whose busiest node must serve more gets replicas
  of it. Without the probe, a node is planned at CPU_PER_NODE_LIMIT of a core from the fitted CPU per
  command. The cores the reads take are the fitted Redis CPU at the target's commands/s.
- **Application CPU**: the fitted client CPU at the target rate (this harness's Python client); a
  compiled client's from what redis-benchmark sent per client core in the capacity probe.
- **Latency**: the network model's Monte Carlo (figures/netmodel.py) of the sampled reply times of the
  fastest run, at the target's shards and round-trip-time profile, plus what that run's requests took
  beyond their sampled parts (the client's own work) and less the part of the latency that falls with
  the rate; strategies without samples add the profile's round trips to their measured p50 and p99.
- **Staleness**: a refreshed cache is at most one interval plus one refresh old. Where the target's
  interval is longer than its staleness limit allows, the plan shortens it (the refresher's load grows
  in proportion). The top-n entries that differ from the truth grow with writes/s x the cache's mean
  age, at the rate the staleness probe measured (capped at n).

Then the cheapest strategy that meets the SLO: cost in cores, Redis nodes x cores per node plus
application cores.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analysis.figures.costfit import UNITS, Fit, Point, client_fit, idle_node_cpu, point, redis_fit
from analysis.figures.netmodel import Floats, Parts, cached_draws, naive_draws, read_parts
from runfiles import RunFiles, read_json
from runfiles.rtt import LOOPBACK, RttProfile
from runfiles.summary import (
    Assumption,
    Percentiles,
    Plan,
    Refresher,
    StrategyPlan,
    StrategySummary,
    Summary,
    Target,
    read_summary,
)
from runfiles.typed import to_json

SEED = 12
#: Each strategy's read command in the capacity probe (bench/probes/capacity.py). ``global`` and
#: ``regional`` read a top n from a sorted set too: the probe's ZRANGE on the 1,000-entry cache stands
#: for them (a larger set adds a few skip-list levels, log N, to the same reply).
PROBED = {
    "naive": "shard",
    "cached": "zset",
    "incremental": "zset",
    "global": "zset",
    "regional": "zset",
    "blob": "blob",
}
#: Strategies whose reply is a top n of the seeded data as a sorted set returns it, so its size follows
#: the data (bench/seeding/replysize.py): every shard's top n for naive, the global top n for the others.
DATA_SIZED = ("naive", "cached", "incremental", "global")
#: (players, shards, seed, n) -> RESP bytes of (every shard's top n summed, the global top n).
ReplyBytes = Callable[[int, int, int, int], tuple[int, int]]
#: Strategies that serve the top n from a cache the refresher rebuilds.
REFRESHED = ("cached", "blob", "incremental", "regional")
#: Costs closer than this are a tie: two runs of the same `lbbench plan` on one 2-core VM put cached at
#: 42.3 and 47.8 cores (+13%), most of it the Python client's CPU per request, so a smaller gap says
#: nothing about which strategy is cheaper (docs/planning.md).
TIE_FRACTION = 0.15
CPU_PER_NODE_LIMIT = 0.7  # a node planned at 70% of a core at most where no probe measured it
#: Draws below which a run's samples are too few for the Monte Carlo's p99.
MIN_SAMPLES = 100


@dataclass(frozen=True)
class Measured:
    """One run, as the plan reads it."""

    run_dir: Path
    summary: Summary
    parts: Parts
    players: int
    shards: int
    seed: int  # of the seeded scores: which data the replies carried

    @property
    def nodes(self) -> int:
        return self.shards + 1

    @property
    def top_n(self) -> int:
        return (self.summary.scenario.top_n if self.summary.scenario else None) or 100


def measured_run(run_dir: Path) -> Measured:
    """A run directory as the plan reads it (its sampled reply times, where it kept its raw data)."""
    return measured(run_dir, read_summary(RunFiles(run_dir).summary))


def measured(run_dir: Path, summary: Summary) -> Measured:
    """A run's summary with the sampled reply times of its raw data (none once that is deleted)."""
    files = RunFiles(run_dir)
    options = (read_json(files.meta).get("options") or {}) if files.meta.is_file() else {}
    scenario = summary.scenario
    players = int((scenario.players if scenario else None) or options.get("players") or 0)
    shards = int((scenario.shards if scenario else None) or options.get("shards") or 0)
    empty = np.zeros((0, 0))
    parts = read_parts(run_dir) if files.raw.is_dir() else Parts(empty, empty, np.zeros(0), np.zeros(0))
    seed = int((scenario.seed if scenario else None) or options.get("seed") or 0)
    return Measured(run_dir, summary, parts, players, shards, seed)


@dataclass(frozen=True)
class Basis:
    """What the runs measured of one strategy, in the units the projection scales."""

    strategy: str
    run: Measured  # the fastest valid run of it: per-request counts, memory, refresher, capacity
    redis: Fit | None
    client: Fit | None
    latency_run: Measured | None  # the fastest run with enough sampled reply times
    differ_per_write_s: float | None  # top-n entries differing per (write/s x second of cache age)
    cache_age_s: float | None  # mean cache age the staleness probe saw (fit runs of one schedule)
    wakeup_us_x_rps: float  # latency that falls as 1/rate (idle wake-ups), µs x req/s
    reply_bytes: ReplyBytes | None  # the seeded data's reply sizes (bench/seeding/replysize.py)

    @property
    def section(self) -> StrategySummary:
        return self.run.summary.strategies[self.strategy]


def _samples(run: Measured, strategy: str) -> int:
    return len(run.parts.merge_us) if strategy == "naive" else len(run.parts.service_us)


def _staleness(runs: list[Measured], strategy: str) -> tuple[float | None, float | None]:
    """Differing entries per write/s per second of age, and the mean age, over the runs that wrote."""
    rates, ages = [], []
    for run in runs:
        section = run.summary.strategies[strategy]
        stale, writes = section.staleness, section.writes
        age = stale.cache_age_s.mean if stale and stale.cache_age_s else None
        differ = stale.entries_differ.mean if stale and stale.entries_differ else None
        writes_per_s = (writes.requests or 0) / section.duration_s if writes and section.duration_s else 0.0
        if age is not None:
            ages.append(age)
        if differ is not None and age and writes_per_s:
            rates.append(differ / (writes_per_s * age))
    return (float(np.mean(rates)) if rates else None), (float(np.mean(ages)) if ages else None)


def _wakeup(runs: list[Measured], strategy: str, shards: int) -> float:
    """d in ``p50 = c + d / rate``, fitted over runs of one shard count at two or more rates (those at
    ``shards`` if they have two rates, else the first shard count that has); 0 without two rates.

    On an idle machine a request also waits for the CPUs to wake: measured here, cached's raw p50 was
    340 µs at 150 req/s and 244 µs at 300 (5 shards); a rate-free model would carry that into a
    projection to a busy tier.
    """
    groups: dict[int, list[tuple[float, float]]] = {}
    for run in runs:
        rps = _rps(run, strategy)
        p50 = (run.summary.strategies[strategy].latency_us_raw or Percentiles()).p50
        if rps and p50 is not None:
            groups.setdefault(run.shards, []).append((1 / rps, p50))
    usable = {k: v for k, v in groups.items() if len({round(x, 9) for x, _ in v}) >= 2}
    if not usable:
        return 0.0
    points = usable.get(shards) or next(iter(usable.values()))
    slope = float(np.polyfit([x for x, _ in points], [y for _, y in points], 1)[0])
    return max(slope, 0.0)


def bases(runs: list[Measured], reply_bytes: ReplyBytes | None = None) -> dict[str, Basis]:
    """Each strategy's basis, from every run that measured it.

    Args:
        reply_bytes: the seeded data's reply sizes, to scale bytes per request to other populations;
            without it they scale with the shards and the top n only.
    """
    found: dict[str, Basis] = {}
    for name in sorted({name for run in runs for name in run.summary.strategies}):
        having = [run for run in runs if name in run.summary.strategies]
        points = fit_points(having, name)
        fastest = max(having, key=lambda r: (r.summary.strategies[name].valid is not False, _rps(r, name)))
        sampled = [r for r in having if name in ("naive", "cached") and _samples(r, name) >= MIN_SAMPLES]
        differ, age = _staleness(having, name)
        # The fastest run's samples, the most shards among equals (the least extrapolation to more).
        latency_run = max(sampled, key=lambda r: (_rps(r, name), r.shards)) if sampled else None
        found[name] = Basis(
            strategy=name,
            run=fastest,
            redis=redis_fit(points),
            client=client_fit(points),
            latency_run=latency_run,
            differ_per_write_s=differ,
            cache_age_s=age,
            wakeup_us_x_rps=_wakeup(having, name, (latency_run or fastest).shards),
            reply_bytes=reply_bytes,
        )
    return found


def _rps(run: Measured, strategy: str) -> float:
    return run.summary.strategies[strategy].rps or 0.0


def fit_points(runs: list[Measured], strategy: str) -> list[Point]:
    """The fit's points of one strategy (for the plan's assumptions and the validation's table)."""
    return [
        p
        for run in runs
        if strategy in run.summary.strategies
        and (p := point(run.summary.strategies[strategy], run.nodes, idle_node_cpu(run.summary))) is not None
    ]


# --- per request, at a point -----------------------------------------------------------------------


def _shard_scaled(value: float | None, basis: Basis, shards: int) -> float | None:
    """A naive per-request count at ``shards`` shards: each shard answers once."""
    if value is None or basis.strategy != "naive" or not basis.run.shards:
        return value
    return value / basis.run.shards * shards


def _top_n_scaled(value: float | None, basis: Basis, top_n: int) -> float | None:
    run_n = basis.run.summary.scenario.top_n if basis.run.summary.scenario else None
    return value if value is None or not run_n else value / run_n * top_n


def _bytes_out(basis: Basis, players: int, shards: int, top_n: int) -> float | None:
    """Bytes out of Redis per request at this population, shard count and top n."""
    measured_bytes, run = basis.section.bytes_out_per_request, basis.run
    sized = basis.reply_bytes is not None and basis.strategy in DATA_SIZED
    if measured_bytes is None or not sized or not run.players or not run.shards or basis.reply_bytes is None:
        return _top_n_scaled(_shard_scaled(measured_bytes, basis, shards), basis, top_n)
    which = 0 if basis.strategy == "naive" else 1  # every shard's top n, or the global top n
    there = basis.reply_bytes(players, shards, run.seed, top_n)[which]
    here = basis.reply_bytes(run.players, run.shards, run.seed, run.top_n)[which]
    return measured_bytes * there / here


@dataclass(frozen=True)
class Prediction:
    """What one strategy costs per request at a point (loopback latency: the validation compares it)."""

    commands_per_request: float | None
    bytes_out_per_request: float | None
    bytes_in_per_request: float | None
    redis_cpu_us_per_request: float | None
    client_cpu_us_per_request: float | None
    latency_us_p50: float | None
    latency_us_p99: float | None
    entries_differ_mean: float | None


def _terms(commands_per_request: float, rps: float, shards: int) -> dict[str, float]:
    return {
        "commands_per_s": commands_per_request * rps,
        "nodes": float(shards + 1),
        "rps": rps,
        "fixed": 1.0,
    }


def _latency_us(
    basis: Basis, profile: RttProfile, shards: int, rps: float
) -> tuple[float | None, float | None]:
    """p50 and p99 at ``shards`` shards and ``rps`` under ``profile``, µs."""
    rng = np.random.default_rng(SEED)
    run = basis.latency_run or basis.run
    shift = (
        basis.wakeup_us_x_rps * (1 / rps - 1 / _rps(run, basis.strategy))
        if rps and _rps(run, basis.strategy)
        else 0.0
    )
    if basis.latency_run is not None and basis.strategy in ("naive", "cached"):
        draws = _draws(basis, profile, shards, rng) + _client_overhead_us(basis)
    else:
        measured = basis.section.latency_us_raw or Percentiles()
        trips = 2 if basis.strategy == "regional" else 1  # the cache, then the player's region
        if measured.p50 is None or measured.p99 is None:
            return None, None
        draws = np.array([measured.p50 + trips * profile.at(0.5), measured.p99 + trips * profile.at(0.99)])
        return max(float(draws[0]) + shift, 0.0), max(float(draws[1]) + shift, 0.0)
    p50, p99 = np.percentile(draws, [50, 99])
    return max(float(p50) + shift, 0.0), max(float(p99) + shift, 0.0)


def _draws(basis: Basis, profile: RttProfile, shards: int, rng: np.random.Generator) -> Floats:
    run = basis.latency_run or basis.run
    if basis.strategy == "naive":
        return naive_draws(run.parts, profile, shards, rng)
    return cached_draws(run.parts, profile, rng)


def _client_overhead_us(basis: Basis) -> float:
    """What a request took beyond its sampled parts, at the sampled run's p50: the client's own work
    around a read (building it, Locust's bookkeeping), which the parts leave out. Measured here as
    the run's raw p50 less the Monte Carlo's loopback p50 over its own shards."""
    run = basis.latency_run
    measured = (run.summary.strategies[basis.strategy].latency_us_raw or Percentiles()).p50 if run else None
    if run is None or measured is None:
        return 0.0
    sampled = float(np.percentile(_draws(basis, LOOPBACK, run.shards, np.random.default_rng(SEED)), 50))
    return measured - sampled


def entries_differ(basis: Basis, writes_per_s: float, cache_age_s: float, top_n: int) -> float | None:
    """Mean top-n entries differing from the truth, at this write rate and mean cache age."""
    if basis.strategy not in REFRESHED:
        return 0.0  # read live from the shards or the global set
    if basis.differ_per_write_s is None:
        return None
    return min(float(top_n), basis.differ_per_write_s * writes_per_s * cache_age_s)


def predict(
    basis: Basis, *, players: int, shards: int, rps: float, read_write_ratio: int, top_n: int
) -> Prediction:
    """What a run of this strategy on this machine's loopback at this point would measure.

    The cache's mean age is the fit runs' (held-out runs keep their phase length and refresh interval).
    """
    s = basis.section
    commands = _shard_scaled(s.redis_commands_per_request, basis, shards)
    terms = _terms(commands or 0.0, rps, shards)
    redis = None if basis.redis is None or not rps else basis.redis.per_s(terms) / rps * 1e6
    client = None if basis.client is None or not rps else basis.client.per_s(terms) / rps * 1e6
    p50, p99 = _latency_us(basis, LOOPBACK, shards, rps)
    writes_per_s = rps / read_write_ratio if read_write_ratio else 0.0
    return Prediction(
        commands_per_request=commands,
        bytes_out_per_request=_bytes_out(basis, players, shards, top_n),
        bytes_in_per_request=_shard_scaled(s.bytes_in_per_request, basis, shards),
        redis_cpu_us_per_request=redis,
        client_cpu_us_per_request=client,
        latency_us_p50=p50,
        latency_us_p99=p99,
        entries_differ_mean=entries_differ(basis, writes_per_s, basis.cache_age_s or 0.0, top_n),
    )


# --- at the target ----------------------------------------------------------------------------------


def _capacity(basis: Basis, redis_us_per_command: float | None) -> tuple[float | None, str]:
    capacity = basis.run.summary.capacity
    command = PROBED.get(basis.strategy)
    probed = (capacity.commands or {}).get(command) if capacity and command else None
    if probed is not None and probed.rps_per_node:
        return float(probed.rps_per_node), f"capacity probe ({command} read, p99 <= 1 ms)"
    if redis_us_per_command:
        return (
            1e6 / redis_us_per_command * CPU_PER_NODE_LIMIT,
            f"CPU per command, {CPU_PER_NODE_LIMIT:.0%} of a core",
        )
    return None, "not measured"


def _refresh(basis: Basis, target: Target) -> tuple[float | None, float, float]:
    """The planned refresh interval (None: not refreshed), the staleness bound, a refresh's seconds."""
    refresher = basis.section.refresher or Refresher()
    refresh_s = ((refresher.duration_ms.p50 if refresher.duration_ms else None) or 0.0) / 1000
    if basis.strategy not in REFRESHED:
        return None, 0.0, 0.0
    # The limit is on the interval, as the seed states staleness ("up to 60 s" for a 60 s refresh); the
    # refresh's own duration adds to the bound shown beside it.
    interval = min(target.refresh_interval_s, target.max_staleness_s) or target.refresh_interval_s
    return interval, interval + refresh_s, refresh_s


def _cache_entries(basis: Basis) -> int:
    scenario = basis.run.summary.scenario
    return (scenario.cache_top_n if scenario else None) or 1000


def _ram(basis: Basis, target: Target) -> tuple[float | None, float | None]:
    memory = basis.section.memory
    if memory is None:
        return None, None
    per_player = memory.bytes_per_player
    shard = None if per_player is None else per_player * target.players / target.shards / 1e9
    cache = None
    if basis.strategy == "global":
        set_bytes = memory.by_label.get("global_set_bytes")
        if set_bytes and basis.run.players:
            cache = set_bytes / basis.run.players * target.players / 1e9
    elif basis.strategy in REFRESHED and memory.cache_key_bytes:
        cache = memory.cache_key_bytes / _cache_entries(basis) * target.cached_entries / 1e9
    return shard, cache


def _app(basis: Basis, target: Target, commands: float) -> tuple[float | None, float | None, int | None]:
    """Application cores: this Python client's, a compiled client's, and hosts of the target's size."""
    terms = _terms(commands, target.rps, target.shards)
    cores = None if basis.client is None else basis.client.per_s(terms)
    capacity = basis.run.summary.capacity
    headroom = capacity.headroom if capacity else None
    per_core = headroom.compiled_rps_per_client_core if headroom else None
    compiled = commands * target.rps / per_core if per_core else None
    hosts = None if cores is None or not target.app_cores else math.ceil(cores / target.app_cores)
    return cores, compiled, hosts


def _traffic(
    basis: Basis, target: Target, interval: float | None
) -> tuple[float | None, float | None, float]:
    """Redis queries/s and network MB/s at the target (reads, writes, refreshes); commands/request."""
    s = basis.section
    commands = _shard_scaled(s.redis_commands_per_request, basis, target.shards)
    refresher = s.refresher or Refresher()
    per_s = 1 / interval if interval else 0.0
    # A refresh reads every shard's top entries: its commands grow with the shards, its bytes with both.
    shards = target.shards / basis.run.shards if basis.run.shards else 1.0
    entries = target.cached_entries / _cache_entries(basis)
    refresh_commands = (refresher.commands_per_refresh or 0.0) * shards * per_s
    refresh_bytes = (refresher.bytes_out_per_refresh or 0.0) * shards * entries
    refresh_bytes += (refresher.bytes_in_per_refresh or 0.0) * shards
    per_write = (s.writes.commands_per_write if s.writes else None) or 1.0
    queries = None
    if commands is not None:
        queries = commands * target.rps + per_write * target.writes_per_s + refresh_commands
    out = _bytes_out(basis, target.players, target.shards, target.top_n)
    into = _shard_scaled(s.bytes_in_per_request, basis, target.shards)
    network = None
    if out is not None:
        network = ((out + (into or 0.0)) * target.rps + refresh_bytes * per_s) / 1e6
    return queries, network, commands or 0.0


def plan_strategy(basis: Basis, target: Target) -> StrategyPlan:
    """The resources, latency and staleness of one strategy at the target, and whether it meets the SLO."""
    name = basis.strategy
    interval, staleness, refresh_s = _refresh(basis, target)
    queries, network, commands = _traffic(basis, target, interval)
    terms = _terms(commands, target.rps, target.shards)
    redis_cores = None if basis.redis is None or queries is None else basis.redis.per_s(terms)
    per_command = basis.redis.coefficient("commands_per_s") if basis.redis else None
    capacity, capacity_from = _capacity(basis, None if per_command is None else per_command * 1e6)
    replicas = None if not capacity else max(1, math.ceil(target.rps / capacity))
    nodes = None
    if replicas is not None:  # naive: every shard serves every read; else one node (the cache) does
        nodes = target.shards * replicas if name == "naive" else target.shards + replicas
    ram_shard, ram_cache = _ram(basis, target)
    app_cores, compiled, hosts = _app(basis, target, commands)
    p50_us, p99_us = _latency_us(basis, target.profile(), target.shards, target.rps)
    writes_per_s = target.writes_per_s
    age = (interval or 0.0) / 2 + (staleness - (interval or 0.0))
    misses = []
    if p99_us is None:
        misses.append("no latency measured")
    elif p99_us / 1000 > target.slo_p99_ms:
        misses.append(f"p99 {p99_us / 1000:,.2f} ms > {target.slo_p99_ms:g} ms")
    if interval is not None and refresh_s > interval:
        misses.append(f"a refresh takes {refresh_s:,.2f} s, longer than the {interval:g} s staleness allows")
    cost = None if nodes is None or app_cores is None else nodes * target.server_cores + app_cores
    binding = ""
    if nodes is not None and app_cores is not None and capacity:
        where = "every shard" if name == "naive" else "one node"
        binding = (
            f"Redis read capacity: {target.rps:,.0f} reads/s on {where}"
            f" against {capacity:,.0f} per node ({replicas} {'replicas' if replicas != 1 else 'node'})"
            if nodes * target.server_cores >= app_cores
            else f"application CPU: {app_cores:,.1f} cores for {target.rps:,.0f} reads/s"
        )
    return StrategyPlan(
        strategy=name,
        commands_per_request=commands,
        redis_queries_per_s=queries,
        network_mb_per_s=network,
        redis_cores=redis_cores,
        node_read_rps=target.rps,
        node_capacity_rps=capacity,
        capacity_from=capacity_from,
        redis_nodes=nodes,
        ram_per_shard_gb=ram_shard,
        cache_node_ram_gb=ram_cache,
        app_cores=app_cores,
        app_cores_compiled=compiled,
        app_hosts=hosts,
        latency_ms_p50=None if p50_us is None else p50_us / 1000,
        latency_ms_p99=None if p99_us is None else p99_us / 1000,
        refresh_interval_s=interval,
        staleness_bound_s=staleness,
        top_n_error=entries_differ(basis, writes_per_s, age, target.top_n),
        meets_slo=not misses,
        misses=misses,
        cost_cores=cost,
        binding=binding,
    )


def make_plan(runs: list[Measured], target: Target, reply_bytes: ReplyBytes | None = None) -> Plan:
    """The plan for ``target`` from these measured runs (``reply_bytes``: see :func:`bases`)."""
    found = bases(runs, reply_bytes)
    plans = {name: plan_strategy(basis, target) for name, basis in found.items()}
    meeting = [p for p in plans.values() if p.meets_slo and p.cost_cores is not None]
    choice = min(meeting, key=lambda p: p.cost_cores or math.inf) if meeting else None
    return Plan(
        target=target,
        choice=choice.strategy if choice else None,
        why=_why(plans, choice, target),
        strategies=plans,
        assumptions=_assumptions(found, runs, target),
        runs=[str(run.run_dir) for run in runs],
    )


def _why(plans: dict[str, StrategyPlan], choice: StrategyPlan | None, target: Target) -> list[str]:
    """The choice, what binds it, and what would change the answer."""
    said = []
    if choice is None:
        said.append("No measured strategy meets the SLO at this target.")
    else:
        said.append(
            f"**{choice.strategy}** is the cheapest that meets the SLO: {choice.cost_cores:,.1f} cores"
            f" ({choice.redis_nodes} Redis nodes x {target.server_cores} core +"
            f" {choice.app_cores:,.1f} application cores). What binds it: {choice.binding}."
        )
        others = sorted(
            (p for p in plans.values() if p is not choice and p.meets_slo and p.cost_cores is not None),
            key=lambda p: p.cost_cores or math.inf,
        )
        if others:
            runner = others[0]
            gap = (runner.cost_cores or 0) - (choice.cost_cores or 0)
            said.append(f"Next: {runner.strategy}, {gap:+,.1f} cores.")
            tied = [
                str(p.strategy)
                for p in others
                if (p.cost_cores or math.inf) <= (choice.cost_cores or 0) * (1 + TIE_FRACTION)
            ]
            if tied:
                said.append(
                    f"{', '.join(tied)} cost within {TIE_FRACTION:.0%} of it, closer than reruns of this"
                    " measurement agree: a tie, to be decided on the other columns (staleness, RAM, network)."
                )
    shortened: dict[float, list[str]] = {}
    for name, p in plans.items():
        if p.refresh_interval_s is not None and p.refresh_interval_s < target.refresh_interval_s:
            shortened.setdefault(p.refresh_interval_s, []).append(name)
    for interval_s, names in shortened.items():
        said.append(
            f"{', '.join(names)} {'is' if len(names) == 1 else 'are'} planned refreshing every"
            f" {interval_s:,.1f} s, not {target.refresh_interval_s:g} s, to stay within"
            f" {target.max_staleness_s:g} s of staleness"
            f" ({target.refresh_interval_s / interval_s:,.1f}x the refresher's load)."
        )
    for p in plans.values():
        for miss in p.misses:
            if miss.startswith("p99") and p.latency_ms_p99 is not None:
                said.append(
                    f"{p.strategy} misses on {miss}; a p99 SLO of {p.latency_ms_p99:,.2f} ms would admit it."
                )
            else:
                said.append(f"{p.strategy} misses on {miss}.")
    return said


def _fit_text(fit: Fit | None) -> str:
    return "not measured" if fit is None else fit.describe(UNITS)


def _shards_of(runs: list[Measured], strategy: str) -> str:
    return ", ".join(str(s) for s in sorted({r.shards for r in runs if strategy in r.summary.strategies}))


def _assumptions(found: dict[str, Basis], runs: list[Measured], target: Target) -> list[Assumption]:
    players = sorted({run.players for run in runs})
    listed = [
        (
            "Costs per request do not grow with players (sorted-set reads are O(log N + n)); RAM does.",
            f"runs at {', '.join(f'{p:,}' for p in players)} players; RAM from MEMORY USAGE per player",
        ),
        (
            "Each node is planned below the rate it served at p99 <= 1 ms, so queueing stays as measured.",
            "the capacity probe (redis-benchmark, one node, 1 to 256 connections)",
        ),
        (
            f"Latency on the {target.network} network: sampled reply times plus the profile's round trips.",
            f"profile: {target.profile().source}",
        ),
        (
            "Top-n entries differing grow with writes/s x the cache's mean age (half an interval plus a"
            " refresh), capped at n; the writes' hot share is the runs'.",
            "the staleness probe, once a second against the shards' true top n",
        ),
        (
            "Cost counts Redis nodes x cores per node plus this Python client's cores; a compiled client"
            " needs fewer (its column).",
            "client CPU from /proc; a compiled client from redis-benchmark's requests per client core",
        ),
    ]
    for name, basis in found.items():
        listed.append(
            (
                f"{name}: Redis CPU/s = {_fit_text(basis.redis)}; client CPU/s = {_fit_text(basis.client)}.",
                f"{len(fit_points(runs, name))} phase(s) at {_shards_of(runs, name)} shards",
            )
        )
    return [Assumption(text, measured) for text, measured in listed]


def plan_json(plan: Plan) -> dict[str, Any]:
    """plan.json's content (summary.json's ``scale_model`` has the same shape, without ``runs``)."""
    data: dict[str, Any] = to_json(plan)
    return data
