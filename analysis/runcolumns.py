"""The columns and fields of the run directory's CSV and JSON files (re-exported by analysis.runfiles)."""

from __future__ import annotations

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
