"""Everything `lbbench compare` (and each sweep point) is asked to do, checked before anything starts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.cache.refresher import REFRESH_INTERVAL_S
from bench.errors import UsageError
from bench.keys import Keys
from bench.run.swarm import MasterBind
from bench.run.writemodel import HOT_WRITE_SHARE
from bench.strategies import get_strategy
from bench.topology import TopologyOptions, get_provider
from bench.wire.failure import FAIL, KEEP, NONE, FailurePolicy

MAX_WORKERS = 64
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
    users: int = 20
    rps: float | None = 500.0
    workers: int = 1  # Locust worker processes started here (1 and no remote workers: one process)
    remote_workers: int = 0  # workers the master expects from other hosts (lbbench-worker)
    master_bind: str | None = None  # HOST:PORT the master listens on; default a free 127.0.0.1 port
    remote_workers_wait_s: float = REMOTE_WORKERS_WAIT_S
    read_write_ratio: int | None = 1000
    refresh_interval_s: float = REFRESH_INTERVAL_S
    top_n: int = 100
    hot_write_share: float = HOT_WRITE_SHARE
    key_prefix: str = Keys().prefix
    out: Path | None = None
    overwrite: bool = False
    keep_data: bool = False
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
        return data
