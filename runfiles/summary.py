"""summary.json, typed: one frozen dataclass per section, in the order the file lists them.

analysis writes summary.json through these types and reads it back through them (:func:`read_summary`);
CI pipelines that read the file have its JSON Schema, generated from the same types, in
docs/summary.schema.json (``python -m runfiles.schema``). Every field may be absent in a file written
before it existed (it reads as None), and None is also how a figure a run could not measure is written.
What each field means: docs/run-directory.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runfiles.io import read_json
from runfiles.rtt import BUILT_IN, RttProfile, parse_profile
from runfiles.typed import flatten, from_json, json_schema, omit_if_none, to_json

SCHEMA_ID = "https://leaderboard-bench.invalid/summary.schema.json"


@dataclass(frozen=True)
class Percentiles:
    """A latency distribution from merged HDR histograms, µs."""

    p50: float | None = None
    p90: float | None = None
    p99: float | None = None
    p999: float | None = None
    max: float | None = None
    mean: float | None = None


@dataclass(frozen=True)
class MeanMax:
    """A mean and a maximum."""

    mean: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class P50Max:
    """A median and a maximum."""

    p50: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class P50P99:
    """A median and a 99th percentile."""

    p50: float | None = None
    p99: float | None = None


@dataclass(frozen=True)
class Spread:
    """A mean, a 95th percentile and a maximum."""

    mean: float | None = None
    p95: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class FailurePolicies:
    """The failure policies a run was given (docs/failure-policies.md)."""

    naive_on_shard_error: str | None = None
    cached_fallback: str | None = None
    refresher_on_shard_error: str | None = None


@dataclass(frozen=True)
class Containers:
    """How the servers ran in containers (the docker provider)."""

    image: str | None = None
    image_id: str | None = None
    image_source: str | None = None
    network_mode: str | None = None
    network: str | None = None
    userland_proxy: bool | None = None
    shard_limits: dict[str, Any] | None = None
    engine_version: str | None = None


@dataclass(frozen=True)
class Scenario:
    """What the run was asked to do, from meta.json."""

    players: int | None = None
    shards: int | None = None
    seed: int | None = None
    duration_s: float | None = None
    users: int | None = None
    refresh_interval_s: float | None = None
    cache_top_n: int | None = None
    top_n: int | None = None
    server: str | None = None
    provider: str | None = None
    failure_policies: FailurePolicies | None = None
    containers: Containers | None = None


@dataclass(frozen=True)
class FailureCount:
    """Failed reads of one kind (exception class): in all, and the most in one second."""

    count: int | None = None
    peak_per_s: int | None = None


@dataclass(frozen=True)
class Episode:
    """A stretch of time in which every user was busy (s from the load window's start)."""

    from_s: float | None = None
    to_s: float | None = None
    requests: int | None = None


@dataclass(frozen=True)
class UsersExhausted:
    """Reads whose slot was due while every user was busy: the in-flight limit reached."""

    requests: int | None = None
    share: float | None = None
    first_at_s: float | None = None
    last_at_s: float | None = None
    seconds: int | None = None
    episodes: list[Episode] | None = None
    in_flight_max: int | None = None
    users: int | None = None
    catch_up_lag_us_p99: float | None = None


@dataclass(frozen=True)
class PoolEpisode:
    """Growths of the pool less than a second apart (analysis/figures/userpool.py): when, and why."""

    from_s: float | None = None
    to_s: float | None = None
    users_from: int | None = None
    users_to: int | None = None
    in_flight_peak: int | None = None
    reply_us_p50: float | None = None
    reply_us_p99: float | None = None
    cause: str | None = None  # "replies_slowed" or "rate"


@dataclass(frozen=True)
class UserPool:
    """Open loop: users at the start, the end and the limit, how the pool grew, slots dropped at it."""

    start: int | None = None
    end: int | None = None
    max: int | None = None
    episodes: list[PoolEpisode] | None = None
    dropped: int | None = None
    dropped_share: float | None = None
    dropped_seconds: int | None = None
    dropped_peak_per_s: int | None = None


@dataclass(frozen=True)
class CrossCheck:
    """Redis's INFO counters over the load generator's own counts, per request; agree within 1%."""

    commands: float | None = None
    bytes_out: float | None = None
    bytes_in: float | None = None
    agree: bool | None = None


@dataclass(frozen=True)
class NodeFigures:
    """One node over the load window."""

    role: str | None = None
    commands: int | None = None
    write_commands: int | None = None
    ops_per_s: float | None = None
    bytes_out: int | None = None
    bytes_in: int | None = None
    cpu_s: float | None = None
    used_memory_bytes: int | None = None


@dataclass(frozen=True)
class Spike:
    """The refresher's load in the seconds it ran against the steady load between refreshes."""

    bytes_out_per_s: float | None = None
    steady_bytes_out_per_s: float | None = None
    bytes_out_height: float | None = None
    commands_per_s: float | None = None
    steady_commands_per_s: float | None = None
    commands_height: float | None = None


@dataclass(frozen=True)
class Refresher:
    """The background cache refresher over the phase."""

    interval_s: float | None = None
    refreshes: int | None = None
    failed_refreshes: int | None = None
    partial_refreshes: int | None = None
    commands: int | None = None
    bytes_out: int | None = None
    bytes_in: int | None = None
    commands_per_refresh: float | None = None
    bytes_out_per_refresh: float | None = None
    bytes_in_per_refresh: float | None = None
    duration_ms: P50Max | None = None
    spike: Spike | None = None


@dataclass(frozen=True)
class Writes:
    """The background writer's ZINCRBYs."""

    requests: int | None = None
    commands_per_write: float | None = None
    failures: int | None = None
    latency_us: Percentiles | None = None
    read_write_ratio: int | None = None


@dataclass(frozen=True)
class GuardLimits:
    """The saturation guard's limits: below or above these, a strategy is not valid."""

    min_rate_fraction: float | None = None
    lag_p99_limit_us: float | None = None
    cpu_limit_percent: float | None = None


@dataclass(frozen=True)
class Staleness:
    """Once a second, the true top n against the cached view's."""

    samples: int | None = None
    failed_samples: int | None = None
    # Without a successful sample, only the two counts above are written.
    cache_age_s: MeanMax | None = omit_if_none()
    entries_differ: Spread | None = omit_if_none()
    share_of_samples_differing: float | None = omit_if_none()
    max_rank_displacement: MeanMax | None = omit_if_none()
    missing_from_cache_max: int | None = omit_if_none()
    max_score_error: float | None = omit_if_none()


@dataclass(frozen=True)
class Memory:
    """MEMORY USAGE of each key after the phase; each other key as ``<label>_bytes`` (None: not written)."""

    shard_key_bytes: int | None = None
    bytes_per_player: float | None = None
    cache_key_bytes: int | None = None
    cache_vs_shards: float | None = None
    # cache_blob_bytes, cache_hist_bytes, global_set_bytes, ...: one per key label (window.json).
    by_label: dict[str, int | None] = flatten()


@dataclass(frozen=True)
class Rank:
    """A strategy's rank(player) against the exact rank, after the load."""

    queries: int | None = None
    rank_is_exact: bool | None = None
    unanswered: int | None = None
    commands_per_query: float | None = None
    bytes_out_per_query: float | None = None
    bytes_in_per_query: float | None = None
    query_us_p50: float | None = None
    rank_error_abs_p50: float | None = None
    rank_error_abs_p99: float | None = None
    rank_error_abs_max: float | None = None
    rank_error_rel_p50: float | None = None
    rank_error_rel_p99: float | None = None
    share_exact: float | None = None


@dataclass(frozen=True)
class StrategySummary:
    """One strategy's phase: what was asked, what it cost, how fast, and whether it is valid."""

    requests: int | None = None
    failures: int | None = None
    partial: int | None = None
    fallbacks: int | None = None
    failures_by_kind: dict[str, FailureCount] | None = None
    duration_s: float | None = None
    rps: float | None = None
    target_rps: float | None = None
    mode: str | None = None
    workers: int | None = None
    latency_us: Percentiles | None = None
    latency_us_raw: Percentiles | None = None
    schedule_lag_us: Percentiles | None = None
    generator_lag_us: Percentiles | None = None
    users_exhausted: UsersExhausted | None = None
    user_pool: UserPool | None = None
    schedule_lag_cause: str | None = None
    redis_commands_per_request: float | None = None
    bytes_out_per_request: float | None = None
    bytes_in_per_request: float | None = None
    client_commands_per_request: float | None = None
    client_bytes_out_per_request: float | None = None
    client_bytes_in_per_request: float | None = None
    cross_check: CrossCheck | None = None
    client_cpu_us_per_request: float | None = None
    client_cpu_us_per_request_marginal: float | None = None
    loadgen_cpu_percent: MeanMax | None = None
    redis_ops_per_s: float | None = None
    redis_cpu_us_per_request: float | None = None
    relay_cpu_us_per_request: float | None = None
    redis_command_us_per_request: float | None = None
    nodes_per_request: int | None = None
    redirects_per_request: float | None = None
    # Flat figures of the metric table (analysis/metrics/table.py) that have no field above: a row added
    # there lands here, and in the JSON at this place, with no change to these types.
    more_figures: dict[str, Any] = flatten()
    per_node: dict[str, NodeFigures] | None = None
    refresher: Refresher | None = None
    writes: Writes | None = None
    guard_limits: GuardLimits | None = None
    staleness: Staleness | None = None
    memory: Memory | None = None
    locust_returncode: int | None = None
    valid: bool | None = None
    invalid_reason: str | None = None
    rank: Rank | None = None


@dataclass(frozen=True)
class CapacityCommand:
    """What one node served of one read command at p99 <= the limit (redis-benchmark)."""

    command: str | None = None
    node: str | None = None
    key_entries: int | None = None
    rps_per_node: float | None = None
    clients: float | None = None
    latency_ms_p50: float | None = None
    latency_ms_p99: float | None = None
    server_cpu_us_per_request: float | None = None
    rps_per_server_core: int | None = None
    rps_per_client_core: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class NaiveAtPeak:
    """Naive's shard reads at the seed's peak against one node's capacity."""

    shard_reads_per_s: int | None = None
    nodes_needed: int | None = None
    nodes_needed_per_core: int | None = None
    shard_share_of_capacity: float | None = None
    shard_share_of_core: float | None = None


@dataclass(frozen=True)
class Headroom:
    """Requests per core: this Python load generator's, and a compiled client's (redis-benchmark)."""

    harness_rps_per_generator_core: int | None = None
    compiled_rps_per_client_core: int | None = None
    compiled_over_harness: float | None = None


@dataclass(frozen=True)
class Capacity:
    """Per-node capacity of each read command, or why it was not measured."""

    available: bool | None = None
    # Two shapes: not available, with the reason; or measured, with the rest.
    reason: str | None = omit_if_none()
    tool: str | None = omit_if_none()
    server: str | None = omit_if_none()
    cpu_count: float | None = omit_if_none()
    p99_limit_ms: float | None = omit_if_none()
    method: str | None = omit_if_none()
    commands: dict[str, CapacityCommand] | None = omit_if_none()
    naive_at_seed_peak: NaiveAtPeak | None = omit_if_none()
    headroom: Headroom | None = omit_if_none()


@dataclass(frozen=True)
class Target:
    """The tier a plan sizes (``lbbench plan --target``); the defaults are the seed's scenario.

    ``network`` is a built-in round-trip-time profile or a profile file (runfiles/rtt.py).
    """

    players: int = 100_000_000
    shards: int = 10
    rps: float = 10_000.0  # peak top-n reads per second
    read_write_ratio: int = 1000  # reads per score write
    top_n: int = 100
    cached_entries: int = 1000  # what the cache holds (the seed's top 1000)
    refresh_interval_s: float = 60.0
    network: str = "same-zone"
    slo_p99_ms: float = 10.0
    max_staleness_s: float = 60.0
    server_cores: int = 1  # cores per Redis node (a node serves commands on one thread)
    app_cores: int | None = None  # cores per application host; None: count cores only

    def profile(self) -> RttProfile:
        """The target's round-trip-time profile (ProfileError where the file cannot be read)."""
        if self.network in BUILT_IN:
            return BUILT_IN[self.network]
        return parse_profile(Path(self.network))

    @property
    def writes_per_s(self) -> float:
        return self.rps / self.read_write_ratio if self.read_write_ratio else 0.0


@dataclass(frozen=True)
class StrategyPlan:
    """One strategy at a plan's target (analysis/figures/plan.py): resources, latency, staleness."""

    strategy: str | None = None
    commands_per_request: float | None = None
    redis_queries_per_s: float | None = None
    network_mb_per_s: float | None = None
    redis_cores: float | None = None  # CPU the reads, writes and refreshes take, all nodes
    node_read_rps: float | None = None  # reads/s the busiest node must serve
    node_capacity_rps: float | None = None  # what one node serves of its read
    capacity_from: str | None = None
    redis_nodes: int | None = None
    ram_per_shard_gb: float | None = None
    cache_node_ram_gb: float | None = None  # the cache's node (the global set's, for global)
    app_cores: float | None = None  # this harness's Python client
    app_cores_compiled: float | None = None  # a compiled client (the capacity probe's redis-benchmark)
    app_hosts: int | None = None
    latency_ms_p50: float | None = None
    latency_ms_p99: float | None = None
    refresh_interval_s: float | None = None  # as planned: shortened to meet the staleness limit
    staleness_bound_s: float | None = None
    top_n_error: float | None = None  # mean top-n entries differing from the truth
    meets_slo: bool | None = None
    misses: list[str] = field(default_factory=list)
    cost_cores: float | None = None
    binding: str | None = None


@dataclass(frozen=True)
class Assumption:
    """One assumption of a plan, and the measurement it rests on."""

    assumption: str
    measured: str


@dataclass(frozen=True)
class Plan:
    """Every strategy at a target, the cheapest that meets the SLO, and what the numbers rest on.

    summary.json's ``scale_model`` is the plan for the seed's scenario from that run alone; `lbbench
    plan` writes plan.json from its own runs, which it lists.
    """

    target: Target = field(default_factory=Target)
    choice: str | None = None
    why: list[str] = field(default_factory=list)
    strategies: dict[str, StrategyPlan] = field(default_factory=dict)
    assumptions: list[Assumption] = field(default_factory=list)
    runs: list[str] | None = omit_if_none()


@dataclass(frozen=True)
class ShardsPoint:
    """Naive's projected latency at one shard count (every point has all three)."""

    shards: int
    p50: float
    p99: float


@dataclass(frozen=True)
class NetworkProfile:
    """One round-trip-time profile, and what naive and cached reads would take under it, µs."""

    source: str | None = None
    rtt_us: P50P99 | None = None
    naive_us: P50P99 | None = None
    cached_us: P50P99 | None = None
    naive_by_shards: list[ShardsPoint] | None = None


@dataclass(frozen=True)
class Network:
    """The network projection: this run's sampled parts of a read, composed with RTT profiles."""

    model: str | None = None
    shards: int | None = None
    sample_every: int | None = None
    samples: dict[str, int] | None = None
    draws: int | None = None
    seed: int | None = None
    profiles: dict[str, NetworkProfile] | None = None


@dataclass(frozen=True)
class FaultRow:
    """One strategy through one injected fault (docs/faults.md); the fields without a default are in
    every row since the section exists."""

    strategy: str
    fault: str
    kind: str
    target: str
    start_s: float
    end_s: float | None
    attempts: int
    availability: float | None
    partial_share: float | None
    fallbacks: int
    failures_outside: int | None = None
    latency_us_p99_before: float | None = None
    latency_us_p99_during: float | None = None
    cache_age_s_max: float | None = None
    stale_after_s: float | None = None
    cache_age_s_when_stale: float | None = None
    recovery_s: float | None = None
    other_nodes_ops_per_s_before: float | None = None
    other_nodes_ops_per_s_during: float | None = None


@dataclass(frozen=True)
class Summary:
    """summary.json: a run's scenario, each strategy's figures, and the run-wide sections."""

    schema_version: int | None = None
    run_id: str | None = None
    created_utc: str | None = None
    valid: bool | None = None
    scenario: Scenario | None = None
    strategies: dict[str, StrategySummary] = field(default_factory=dict)
    capacity: Capacity | None = None
    scale_model: Plan | None = None
    under_faults: list[FaultRow] | None = None
    network: Network | None = None

    def to_json(self) -> dict[str, Any]:
        """The file's content; sections a run does not have (capacity, under_faults, network) left out."""
        data: dict[str, Any] = to_json(self)
        for optional in ("capacity", "under_faults", "network"):
            if data[optional] is None:
                del data[optional]
        return data


def read_summary(path: Path) -> Summary:
    """A summary.json file, typed."""
    return from_json(Summary, read_json(path))


def summary_schema() -> dict[str, Any]:
    """The JSON Schema of summary.json (docs/summary.schema.json)."""
    return json_schema(Summary, "leaderboard-bench summary.json", SCHEMA_ID)
