"""Everything `lbbench compare` (and each sweep point) is asked to do, checked before anything starts.

Each field that a flag sets is declared here once (bench/declare/): its flag, kind, default, help and
the commands that take it. A few defaults are derived when the run starts (``users``, ``workers``,
``capacity_s``: None until then); the properties below work them out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.cache.refresher import REFRESH_INTERVAL_S
from bench.declare import (
    RUNS,
    SEEDING,
    Choice,
    Derived,
    Duration,
    Flag,
    Integer,
    Number,
    Option,
    PathArg,
    Text,
    ZeroIsNone,
    declared,
    option,
    problems,
)
from bench.errors import UsageError
from bench.faults.spec import KINDS, Fault, kind_of, resolve
from bench.keys import Keys
from bench.run.swarm import MasterBind
from bench.run.writemodel import HOT_PLAYERS, HOT_WRITE_SHARE
from bench.strategies import StrategyList
from bench.topology import PROVIDERS, TopologyOptions, get_provider
from bench.topology.endpoint import redact_url
from bench.wire.failure import (
    CACHED_FALLBACK,
    NAIVE_ON_SHARD_ERROR,
    REFRESHER_ON_SHARD_ERROR,
    FailurePolicy,
)
from bench.wire.replytimes import SAMPLE_EVERY
from runfiles.rtt import ProfileError, parse_profile

MAX_WORKERS = 64
DEFAULT_USERS = 20
# Users a fault run gets by default: enough in flight to hold every request due during a stall of the
# socket timeout (rate x timeout), with headroom for the requests after it, so each one reaches the
# stalled server and times out there instead of waiting unseen for a free user. Capped because each
# user holds its own connections (one per node it reads): beyond a few thousand, connection set-up and
# file descriptors cost more than the fault shows.
STALL_USERS_MARGIN = 1.2
MAX_STALL_USERS = 2000
# Remote workers start on their own schedule (a container pulling its image, a host booting), and
# between phases each needs a moment to start a fresh Locust worker.
REMOTE_WORKERS_WAIT_S = 60.0
# Both strategies stay valid at this rate on a 2-core machine with 1M players (naive's ceiling
# there was 750-1,000 req/s; docs/methodology.md "The load generator").
DEFAULT_RPS = 500.0
# The capacity probe after the load, on servers the harness started: ~5 s per read command, enough for
# its concurrency sweep to pass p99 1 ms on a small box. On servers it does not own, none unless asked.
COMPARE_CAPACITY_S = 15.0
# Overrides --capacity-s's default (the integration tests set 0: each of their compares would
# otherwise spend it; the tests of the probe pass --capacity-s themselves).
CAPACITY_ENV = "LBBENCH_CAPACITY_S"

DATA = "data"
FAILS = "when a part fails (docs/failure-policies.md)"


def _rtt_profile(path: Path) -> None:
    try:
        parse_profile(path)
    except ProfileError as exc:
        raise ValueError(str(exc)) from None


@dataclass(frozen=True)
class CompareOptions:
    """Everything `lbbench compare` was asked to do."""

    strategies: list[str] = option(
        ["naive", "cached"], StrategyList(), "comma-separated strategies to run", commands=RUNS
    )
    players: int = option(1_000_000, Integer(min=1), "players to seed", commands=SEEDING, group=DATA)
    seed: int = option(42, Integer(min=0), "random seed of the scores", commands=SEEDING, group=DATA)
    key_prefix: str = option(
        Keys().prefix, Text(), "shard key; the cache is <prefix>:global:cache", commands=SEEDING, group=DATA
    )
    duration_s: float = option(60.0, Duration(min=1), "load per strategy", commands=RUNS, name="duration")
    users: int | None = option(
        Derived(
            f"{DEFAULT_USERS}; with --fault in open loop, rate x timeout x {STALL_USERS_MARGIN:g},"
            f" at most {MAX_STALL_USERS:,}"
        ),
        Integer(min=1),
        "concurrent Locust users: in closed loop the requests in flight; in open loop the pool they start"
        " with, which grows up to --max-users",
        commands=RUNS,
    )
    max_users: int | None = option(
        Derived(
            f"in open loop, rate x timeout x {STALL_USERS_MARGIN:g} (at most {MAX_STALL_USERS:,}) and no"
            " fewer than --users; in closed loop, --users"
        ),
        Integer(min=1),
        "open loop: the pool of users grows from --users up to this when a due request finds every user"
        " busy; at this many, a request with no free user is dropped and counted (k6's maxVUs)",
        commands=RUNS,
    )
    rps: float | None = option(
        DEFAULT_RPS,
        ZeroIsNone(Number(positive=True, unit="req/s"), "closed loop"),
        "open loop: total arrival rate in req/s (0 = closed loop)",
        commands=RUNS,
    )
    workers: int | None = option(
        Derived("1, a single process; 0 with --remote-workers"),
        Integer(min=0, max=MAX_WORKERS),
        "Locust worker processes under one master, on this machine",
        commands=RUNS,
    )
    remote_workers: int = option(
        0,
        Integer(min=0),
        "workers the master also waits for, started elsewhere with `lbbench-worker`",
        commands=RUNS,
    )
    master_bind: str | None = option(
        Derived("a free 127.0.0.1 port"),
        Text(),
        "where the master listens, needed with --remote-workers, e.g. 0.0.0.0:5557",
        commands=RUNS,
        metavar="HOST:PORT",
    )
    remote_workers_wait_s: float = option(
        REMOTE_WORKERS_WAIT_S,
        Duration(positive=True),
        "how long a phase waits for remote workers before it fails",
        commands=RUNS,
        name="remote-workers-wait",
    )
    read_write_ratio: int | None = option(
        1000,
        ZeroIsNone(Integer(min=1), "no writes"),
        "reads per background ZINCRBY write (the seed's 1000:1; 0 = no writes)",
        commands=RUNS,
    )
    hot_write_share: float = option(
        HOT_WRITE_SHARE,
        Number(min=0, max=1),
        f"share of writes to the top {HOT_PLAYERS} players (0 = uniform)",
        commands=RUNS,
    )
    refresh_interval_s: float = option(
        REFRESH_INTERVAL_S,
        Duration(positive=True),
        "time between cache refreshes (the seed's 60 s)",
        commands=RUNS | {"up"},
        name="refresh-interval",
    )
    top_n: int = option(100, Integer(min=1, max=1000), "entries per request", commands=RUNS | {"capacity"})
    read_extra_cpu_us: int = option(
        0,
        Integer(min=0, max=100_000),
        "busy-wait this long inside every timed read: a slowdown of known size, to measure what a"
        " gate catches (benchmarks/gate_power.py); 0 = none",
        commands=RUNS,
    )
    sample_every: int = option(
        SAMPLE_EVERY,
        Integer(min=1),
        "time the parts of one read in this many per user: each shard's reply, the merge, the cached"
        " read's service time (the network projection's input)",
        commands=RUNS,
    )
    rtt_profiles: tuple[Path, ...] = option(
        (),
        PathArg("file", validate=_rtt_profile),
        "project the run onto your own round-trip-time quantiles too (TOML; docs/network-model.md)",
        commands=RUNS | {"report"},
        name="rtt-profile",
        repeat=True,
        metavar="FILE",
    )
    capacity_s: float | None = option(
        Derived(
            f"{COMPARE_CAPACITY_S:g}s on servers the harness starts; none on servers you run;"
            f" ${CAPACITY_ENV} overrides"
        ),
        Duration(min=0),
        "length of the per-node capacity probe after the load (redis-benchmark; docs/capacity.md; 0 = none)",
        commands=RUNS,
        env=CAPACITY_ENV,
    )
    out: Path | None = option(
        Derived("results/<run-id>"),
        PathArg("out"),
        "where the run is written",
        commands=RUNS | {"capacity"},
        scenario=False,
        metavar="DIR",
    )
    overwrite: bool = option(False, Flag(), "servers you run: replace existing harness keys", commands=RUNS)
    keep_data: bool = option(False, Flag(), "servers you run: keep the seeded keys afterwards", commands=RUNS)
    # --fault specs or preset names, as given (bench/faults/spec.py)
    faults: tuple[str, ...] = option(
        (),
        Text(),
        "inject a fault into every strategy's phase, e.g. stall:shard=3,at=20s,for=5s or a preset"
        " (repeatable; `lbbench faults` lists the grammar and presets)",
        commands=RUNS,
        name="fault",
        repeat=True,
        metavar="SPEC",
    )
    # What a read or a refresh does when a part fails (bench/wire/failure.py, docs/failure-policies.md).
    naive_on_shard_error: str = option(
        NAIVE_ON_SHARD_ERROR[0],
        Choice(NAIVE_ON_SHARD_ERROR),
        "naive request with a shard timing out or refusing: fail it, or answer the top of the shards"
        " that answered, counted as partial",
        commands=RUNS,
        group=FAILS,
    )
    cached_fallback: str = option(
        CACHED_FALLBACK[0],
        Choice(CACHED_FALLBACK),
        "cached request with the cache failing or empty: fail it, or scatter-gather the shards instead,"
        " counted as a fallback",
        commands=RUNS,
        group=FAILS,
    )
    refresher_on_shard_error: str = option(
        REFRESHER_ON_SHARD_ERROR[0],
        Choice(REFRESHER_ON_SHARD_ERROR),
        "cache refresh with a shard failing: keep the old cache (a failed refresh), or publish the top"
        " of the shards that answered (a partial refresh)",
        commands=RUNS,
        group=FAILS,
    )
    topology: TopologyOptions = field(default_factory=TopologyOptions)

    def scenario_values(self, command: str = "compare") -> list[tuple[Option, Any]]:
        """Each option ``command`` takes from these objects, with its value (scenario.toml's lines)."""
        return [
            (declaration, getattr(options, name))
            for options in (self.topology, self)
            for name, declaration in declared(type(options))
            if command in declaration.commands
        ]

    @property
    def user_count(self) -> int:
        """--users, else 20; a fault run in open loop gets enough to hold a stall of the timeout."""
        if self.users is not None:
            return self.users
        if self.faults and self.rps:
            return users_for_stalls(self.rps, self.topology.timeout_ms / 1000, DEFAULT_USERS)
        return DEFAULT_USERS

    @property
    def max_user_count(self) -> int:
        """--max-users, else as many as hold a stall of the timeout in open loop; never below the start."""
        if self.max_users is not None:
            return self.max_users
        if not self.rps:
            return self.user_count  # closed loop: the users are the load, nothing to grow for
        return users_for_stalls(self.rps, self.topology.timeout_ms / 1000, self.user_count)

    @property
    def local_workers(self) -> int:
        """--workers, else one process here; none when remote workers come."""
        if self.workers is not None:
            return self.workers
        return 0 if self.remote_workers else 1

    @property
    def capacity_probe_s(self) -> float:
        """--capacity-s, else 15 s on servers the harness owns and none on servers it does not.

        Never load the user did not ask for on servers the harness does not own: the probe's
        redis-benchmark sweep sends hundreds of thousands of reads.
        """
        if self.capacity_s is not None:
            return self.capacity_s
        return COMPARE_CAPACITY_S if get_provider(self.topology).owns_data else 0.0

    def validate(self) -> None:
        """Every value its declaration's kind allows, then the rules between options; UsageError (one
        line) at the first that fails."""
        found = problems(self) + problems(self.topology)
        if found:
            raise UsageError(found[0])
        workers = self.local_workers
        checks = [
            (
                (0 if self.remote_workers else 1) <= workers,
                f"--workers must be between {0 if self.remote_workers else 1} and {MAX_WORKERS}, "
                f"got {workers}",
            ),
            (
                self.load_processes <= MAX_WORKERS,
                f"--workers plus --remote-workers must be at most {MAX_WORKERS}, got {self.load_processes}",
            ),
            (
                not self.remote_workers or self.master_bind is not None,
                "--remote-workers needs --master-bind HOST:PORT: workers on other hosts must know the port",
            ),
            (
                self.master_bind is None or self.remote_workers > 0,
                "--master-bind is for --remote-workers (local workers find their master by themselves)",
            ),
            (
                self.max_users is None or self.max_users >= self.user_count,
                f"--max-users must be at least --users ({self.user_count}), got {self.max_users}",
            ),
            (
                self.user_count >= self.load_processes,
                f"--users must be at least the {self.load_processes} load-generator processes "
                f"(one without users sends nothing), got {self.user_count}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise UsageError(message)
        if self.master_bind is not None:
            MasterBind.parse(self.master_bind).check_free()
        get_provider(self.topology)
        self.fault_plan()

    def fault_plan(self) -> list[Fault]:
        """The ``--fault``\\ s resolved for this run; UsageError (one line) where one cannot work."""
        if not self.faults:
            return []
        provider = get_provider(self.topology)
        if not self.local_workers:
            raise UsageError(
                "--fault needs a Locust process on this host (--workers 1 or more): its clock starts there"
            )
        for kind in {kind_of(text) for text in self.faults}:
            if kind not in KINDS or not KINDS[kind].on_server or kind in provider.fault_kinds:
                continue  # an unknown kind is resolve()'s to report
            able = sorted(name for name, cls in PROVIDERS.items() if kind in cls.server_faults)
            if provider.name in able:  # the provider can, but not with these options
                can = ", ".join(sorted(provider.fault_kinds)) or "no server faults"
                raise UsageError(
                    f"--fault {kind} does not work with these --provider {provider.name} options "
                    f"(they allow {can}; docs/faults.md)"
                )
            raise UsageError(f"--fault {kind} applies to --provider {'/'.join(able)}, not {provider.name}")
        return resolve(self.faults, self.duration_s, provider.shard_count)

    @property
    def failure_policy(self) -> FailurePolicy:
        return FailurePolicy(self.naive_on_shard_error, self.cached_fallback, self.refresher_on_shard_error)

    @property
    def load_processes(self) -> int:
        """Locust processes that generate load and share the rate: local and remote workers."""
        return self.local_workers + self.remote_workers

    def as_json(self) -> dict[str, Any]:
        """meta.json's options: every declared field by its name, derived defaults worked out, URLs
        without passwords, the faults resolved."""
        data: dict[str, Any] = {}
        for options in (self, self.topology):
            for name, _ in declared(type(options)):
                data[name] = _json(getattr(options, name))
        provider = get_provider(self.topology)
        data.update(
            users=self.user_count,
            max_users=self.max_user_count,
            workers=self.local_workers,
            capacity_s=self.capacity_probe_s,
            shards=provider.shard_count,
            provider=provider.name,
            shard_urls=[redact_url(url) for url in self.topology.shard_urls],
            cache_url=redact_url(self.topology.cache_url) if self.topology.cache_url else None,
            cluster_urls=[redact_url(url) for url in self.topology.cluster_urls],
            faults=[fault.as_json() for fault in self.fault_plan()],
        )
        return data


def _json(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list):
        return [_json(item) for item in value]
    return value


def users_for_stalls(rps: float, timeout_s: float, users: int = 1) -> int:
    """Users for an open-loop run at ``rps`` that must see a stall as long as ``timeout_s``.

    Args:
        users: the least to return (the value asked for, when it is already larger).
    """
    needed = math.ceil(rps * timeout_s * STALL_USERS_MARGIN)
    return max(users, min(needed, MAX_STALL_USERS))


def stall_cover_note(options: CompareOptions) -> str | None:
    """One line when an open-loop run's users cannot hold a stall of the timeout's length; else None."""
    rps, timeout_s = options.rps, options.topology.timeout_ms / 1000
    # Only runs that inject faults look for stalls; a healthy run's users need cover no timeout.
    users = options.max_user_count
    if not options.faults or not rps or users >= rps * timeout_s:
        return None
    covered_ms = users / rps * 1000
    return (
        f"note: {users} users at most cover {covered_ms:,.0f} ms of the {rps:,.0f} req/s schedule, less"
        f" than the {timeout_s * 1000:,.0f} ms timeout: in a longer stall the due requests find no free user"
        f" and are dropped instead of reaching the servers; --max-users"
        f" {users_for_stalls(rps, timeout_s)} covers it"
    )
