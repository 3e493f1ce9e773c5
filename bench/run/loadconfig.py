"""What `lbbench` tells each Locust process: passed as JSON in an environment variable.

An environment variable rather than a file keeps passwords in URLs out of the results directory. The
master reads it as the default of its ``--lbbench-config`` argument, and Locust sends its custom
arguments to every worker with each spawn message, so a worker on another host needs no variable.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from bench.keys import Keys
from bench.topology import Topology
from bench.wire.failure import FailurePolicy

LOAD_CONFIG_ENV = "LBBENCH_LOAD_CONFIG"
# A Locust process logs why a phase could not run after this marker; bench quotes the text after it.
PHASE_ERROR_MARKER = "lbbench-phase-error: "


@dataclass(frozen=True)
class LoadConfig:
    """One strategy's load phase (made by ``bench.run.phase.load_config`` from the run's options)."""

    strategy: str
    topology: dict[str, Any]  # Topology.to_load_config(): the nodes, the provider, the timeout policy
    raw_dir: str  # where the Locust master (or single process) writes the run's raw data
    duration_s: float
    rps: float | None  # total open-loop arrival rate; None = closed loop
    workers: int  # load-generator processes sharing the rate, remote ones included (1 = no master)
    remote_workers: int  # of those, started elsewhere (`lbbench-worker`), not by bench
    workers_wait_s: float  # how long the master waits for all workers before the phase fails
    read_write_ratio: int | None  # reads per ZINCRBY; None = no writes
    players: int  # id range the writer picks players from
    key_prefix: str
    top_n: int
    sample_every: int  # one read in this many per user has its parts timed (replytimes)
    # The write model (bench/run/writemodel.py): the top players at phase start, and their share of writes.
    hot_players: list[tuple[int, float]]
    hot_write_share: float
    # The read paths' failure policies (bench/wire/failure.py); the refresher's stays with bench.
    naive_on_shard_error: str
    cached_fallback: str
    # The pool of users in all processes may grow to this many (--max-users); 0: never grows.
    max_users: int = 0
    # A deliberate slowdown of every read, in µs of busy CPU (--read-extra-cpu-us; 0 in real runs).
    read_extra_cpu_us: int = 0

    @property
    def request_name(self) -> str:
        return f"{self.strategy}.top{self.top_n}"

    def open_topology(self) -> Topology:
        """The run's topology as seen from a load-generator process (closing it stops nothing)."""
        return Topology.from_load_config(self.topology)

    def failure_policy(self) -> FailurePolicy:
        return FailurePolicy(
            naive_on_shard_error=self.naive_on_shard_error, cached_fallback=self.cached_fallback
        )

    def keys(self) -> Keys:
        return Keys(self.key_prefix)

    def to_env(self) -> dict[str, str]:
        return {LOAD_CONFIG_ENV: json.dumps(asdict(self))}

    @classmethod
    def from_json(cls, text: str | None) -> LoadConfig:
        """The config from ``to_env()``'s JSON (the env variable, or what the master passed on)."""
        if not text:
            raise RuntimeError(f"{LOAD_CONFIG_ENV} is not set: start Locust through `lbbench compare`")
        return cls(**json.loads(text))
