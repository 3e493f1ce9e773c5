"""Everything `lbbench compare` (and each sweep point) is asked to do, checked before anything starts."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.cache.refresher import REFRESH_INTERVAL_S
from bench.errors import UsageError
from bench.faults.spec import KINDS, Fault, kind_of, resolve
from bench.keys import Keys
from bench.run.swarm import MasterBind
from bench.run.writemodel import HOT_WRITE_SHARE
from bench.strategies import get_strategy
from bench.topology import PROVIDERS, TopologyOptions, get_provider
from bench.wire.failure import FAIL, KEEP, NONE, FailurePolicy
from bench.wire.replytimes import SAMPLE_EVERY

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


@dataclass(frozen=True)
class CompareOptions:
    """Everything `lbbench compare` was asked to do."""

    strategies: list[str] = field(default_factory=lambda: ["naive", "cached"])
    players: int = 1_000_000
    seed: int = 42
    duration_s: float = 60.0
    users: int = DEFAULT_USERS
    rps: float | None = 500.0
    workers: int = 1  # Locust worker processes started here (1 and no remote workers: one process)
    remote_workers: int = 0  # workers the master expects from other hosts (lbbench-worker)
    master_bind: str | None = None  # HOST:PORT the master listens on; default a free 127.0.0.1 port
    remote_workers_wait_s: float = REMOTE_WORKERS_WAIT_S
    read_write_ratio: int | None = 1000
    refresh_interval_s: float = REFRESH_INTERVAL_S
    top_n: int = 100
    sample_every: int = SAMPLE_EVERY  # reads per user per sampled read (its shards timed one by one)
    hot_write_share: float = HOT_WRITE_SHARE
    key_prefix: str = Keys().prefix
    capacity_s: float = 0.0  # the capacity probe after the load (0: none); the CLI's default is not 0
    out: Path | None = None
    overwrite: bool = False
    keep_data: bool = False
    faults: tuple[str, ...] = ()  # --fault specs or preset names, as given (bench/faults/spec.py)
    # What a read or a refresh does when a part fails (bench/wire/failure.py, docs/failure-policies.md).
    naive_on_shard_error: str = FAIL
    cached_fallback: str = NONE
    refresher_on_shard_error: str = KEEP
    topology: TopologyOptions = field(default_factory=TopologyOptions)

    def validate(self) -> None:
        for name in self.strategies:
            get_strategy(name)
        checks = [
            (self.players >= 1, f"--players must be at least 1, got {self.players}"),
            (self.duration_s >= 1, f"--duration must be at least 1 second, got {self.duration_s:g}"),
            (self.users >= 1, f"--users must be at least 1, got {self.users}"),
            (self.capacity_s >= 0, f"--capacity-s must be at least 0, got {self.capacity_s:g}"),
            (self.rps is None or self.rps > 0, f"--rps must be positive (0 = closed loop), got {self.rps}"),
            (
                (0 if self.remote_workers else 1) <= self.workers <= MAX_WORKERS,
                f"--workers must be between {0 if self.remote_workers else 1} and {MAX_WORKERS}, "
                f"got {self.workers}",
            ),
            (self.remote_workers >= 0, f"--remote-workers must be at least 0, got {self.remote_workers}"),
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
                self.remote_workers_wait_s > 0,
                f"--remote-workers-wait must be positive, got {self.remote_workers_wait_s:g}",
            ),
            (
                self.users >= self.load_processes,
                f"--users must be at least the {self.load_processes} load-generator processes "
                f"(one without users sends nothing), got {self.users}",
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
            (
                self.topology.timeout_ms > 0,
                f"--timeout-ms must be positive, got {self.topology.timeout_ms:g}",
            ),
        ]
        checks += [(False, problem) for problem in self.failure_policy.problems()]
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
        if not self.workers:
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
        return self.workers + self.remote_workers

    def as_json(self) -> dict[str, Any]:
        """Options for meta.json, with URLs redacted."""
        data = asdict(self)
        data["out"] = str(self.out) if self.out else None
        topo = data.pop("topology")
        provider = get_provider(self.topology)
        data["shards"] = provider.shard_count
        data["server_bin"] = topo["server_bin"]
        data["provider"] = provider.name
        data["timeout_ms"] = self.topology.timeout_ms
        data["faults"] = [fault.as_json() for fault in self.fault_plan()]
        return data


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
    if not options.faults or not rps or options.users >= rps * timeout_s:
        return None
    covered_ms = options.users / rps * 1000
    return (
        f"note: {options.users} users cover {covered_ms:,.0f} ms of the {rps:,.0f} req/s schedule, less than"
        f" the {timeout_s * 1000:,.0f} ms timeout: in a longer stall the due requests wait for a free user"
        f" (corrected latency shows it) instead of reaching the servers; --users"
        f" {users_for_stalls(rps, timeout_s)} covers it"
    )
