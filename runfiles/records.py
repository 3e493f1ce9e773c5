"""What each run file holds: the CSV columns, the JSON fields, window.json's record, the histograms' layout.

bench and loadgen write these shapes and analysis reads them (the files' names and places are in
:mod:`runfiles.layout`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from hdrh.histogram import HdrHistogram

# Cumulative counters per node and sample; any window's figures are last row minus first row.
NODE_COLUMNS = (
    "t_s",
    "node",
    "role",
    "commands",
    "workload_commands",
    "bytes_in",
    "bytes_out",
    "workload_bytes_in",
    "workload_bytes_out",
    "refresher_commands",
    "cpu_s",
    "used_memory_bytes",
    "instantaneous_ops_per_sec",
)
COMMANDSTATS_COLUMNS = ("t_s", "node", "command", "calls", "usec")
REFRESH_COLUMNS = (
    "t_start_s",  # wall clock (epoch s) when the scatter began
    "duration_s",
    "entries",
    "commands",
    "bytes_sent",  # by the refresher to all nodes (= Redis's bytes in)
    "bytes_received",  # from all nodes (= Redis's bytes out)
    "ok",
    "error",
    "shards_missing",  # shards that did not answer; > 0 on an ok row: a partial refresh (absent before v4)
)
STALENESS_COLUMNS = (
    "t_s",
    "cache_age_s",
    "entries_differ",
    "missing_from_cache",
    "max_rank_displacement",
    "max_score_error",
    "error",
)
# One fault action: a fault's start, its undo during the phase, or at the phase's end (heal).
FAULT_COLUMNS = (
    "t_s",  # wall clock (epoch s) when the action was taken
    "offset_s",  # t_s minus the load window's start (load-start)
    "fault",  # the spec as given
    "kind",  # stall, kill, slow, cache-down, refresher-dead
    "target",  # shard-3, cache, refresher
    "action",  # pause, resume, kill, restart, restore, throttle, unthrottle, stop, skipped, failed
    "detail",  # what was done (signal and pid, container call, ...) or why it failed
)
# Sampled reply times (bench/wire/replytimes.py), one list entry per sampled read, µs: a naive fan-out's
# per-socket send offset from the scatter's start and send-to-reply time (lists in shard order), its
# merge, and a cached read's send-to-reply service time. Absent before they were added (read as none).
REPLY_SAMPLE_FIELDS = ("shard_send_us", "shard_reply_us", "merge_us", "service_us")
# One intervals.jsonl line; "hist" maps each of HDR_KINDS to an encoded histogram ("" when empty).
# exhausted: reads whose slot was already due when a user became free to take it (every user was
# busy); exhausted_first_s: when the first of them was due, exhausted_last_s: when the last of them got
# a user (epoch s; None when there were none); in_flight_max: the most reads in flight at once in the
# process. Runs before schema 4 lack these four.
# Open loop's pool (loadgen/pool.py): users, the process's users at the interval's end; grew, a list of
# [t_s, from, to, in_flight] per growth in it; dropped, due slots passed over with every user busy at
# --max-users. Runs from before the pool could grow lack these three.
# "requests" are answered reads, "partial" those of them answered without some shards; "fallbacks"
# are reads (answered or failed) that took the strategy's fallback path; "error_kinds" maps the
# exception class name of each failed read to a count. The last three are absent before v4 (read as 0).
INTERVAL_FIELDS = (
    "worker",
    "t_s",
    "dt_s",
    "requests",
    "failures",
    "partial",
    "fallbacks",
    "error_kinds",
    "writes",
    "write_failures",
    "cpu_percent",
    "exhausted",
    "exhausted_first_s",
    "exhausted_last_s",
    "in_flight_max",
    "hist",
    *REPLY_SAMPLE_FIELDS,
    "users",
    "grew",
    "dropped",
)
# One workers.json entry; "client" holds CLIENT_FIELDS, counted on the process's own sockets.
# cpu_s is the process's CPU from test_start to its stop (connecting users included); idle_cpu_s over
# idle_wall_s is its CPU with every user connected and none sending, window_cpu_s over window_wall_s
# its CPU over the load window alone (all four absent before they were recorded; 0 when not measured).
WORKER_FIELDS = (
    "worker",
    "pid",
    "host",
    "requests",
    "failures",
    "partial",
    "fallbacks",
    "writes",
    "write_failures",
    "cpu_s",
    "idle_cpu_s",
    "idle_wall_s",
    "window_cpu_s",
    "window_wall_s",
    "t_start_s",
    "t_stop_s",
    "intended",
    "client",
    "errors",
    "gevent_backend",
    "pacing",  # open loop: how users waited for their slots, "timerfd" or "sleep" (null: closed loop)
    # The process's share of the pool (loadgen/pool.py): at the window's start, at its end, its limit;
    # and the due slots it dropped at that limit. Absent from runs before the pool could grow.
    "users_start",
    "users_end",
    "max_users",
    "dropped",
)
CLIENT_FIELDS = (
    "read_commands",
    "read_bytes_sent",
    "read_bytes_received",
    "read_redirects",  # MOVED/ASK replies followed (a Redis Cluster only; absent in older runs)
    "write_commands",
    "write_bytes_sent",
    "write_bytes_received",
)
RANK_FIELDS = (
    "strategy",
    "rank_is_exact",
    "sample",
    "queries",
    "commands",
    "bytes_sent",
    "bytes_received",
    "players",
    "exact_rank",
    "rank",
    "query_us",
)

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
