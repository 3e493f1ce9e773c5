"""summary.json: per-strategy figures from the tidy frames (schema in docs/run-directory.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
from hdrh.histogram import HdrHistogram

from analysis import metrics
from analysis.figures.capacity import capacity_section, read_capacity
from analysis.figures.commandtime import command_us_per_request
from analysis.figures.lag import (
    generator_lag_us,
    guarded_lag,
    lag_cause,
    split_generator_lag,
    users_exhausted,
)
from analysis.figures.netmodel import network_summary
from analysis.figures.plan import make_plan, measured
from analysis.figures.rank import rank_section
from analysis.figures.sections import (
    cross_check,
    duration_s_of,
    failures_by_kind,
    loadgen_cpu_percent,
    memory_figures,
    nodes_per_request,
    per_node_figures,
    refresh_spike,
    refresher_section,
    totals_of,
    writes_section,
)
from analysis.figures.staleness import staleness_summary
from analysis.figures.target import SEED
from analysis.figures.underfaults import under_faults
from analysis.figures.userpool import dropped_reason, user_pool
from analysis.load import frames, hdr
from runfiles import (
    HDR_KINDS,
    SCHEMA_VERSION,
    RunFiles,
    Window,
)
from runfiles.rtt import RttProfile
from runfiles.summary import Plan, Summary
from runfiles.typed import from_json

#: meta.json options that say what a read or refresh does when a part fails (bench/wire/failure.py).
FAILURE_POLICY_OPTIONS = ("naive_on_shard_error", "cached_fallback", "refresher_on_shard_error")

CATCH_UP = "gen_lag_catch_up"  # histograms key: the generator's lag in seconds with exhausted users
# Open loop: a sent rate below this share of the target means the generator fell behind.
MIN_RATE_FRACTION = 0.95


#: meta.json topology fields a container run records (bench/topology/containers/provider.py).
CONTAINER_FIELDS = (
    "image",
    "image_id",
    "image_source",
    "network_mode",
    "network",
    "userland_proxy",
    "shard_limits",
    "engine_version",
)


def _containers(topology: dict[str, Any]) -> dict[str, Any] | None:
    """How the servers ran in containers (None when they did not)."""
    if "network_mode" not in topology:
        return None
    return {key: topology.get(key) for key in CONTAINER_FIELDS}


def guard_reasons(entry: dict[str, Any], window: Window) -> list[str]:
    """Why a strategy's latencies describe the load generator rather than Redis (empty: valid)."""
    reasons = []
    open_loop = window.mode == "open"
    target_rps = window.target_rps
    # Sent on time counts, answered or not: a request a stalled shard failed was still sent.
    duration_s = entry["duration_s"]
    sent_rps = (entry["requests"] + entry["failures"]) / duration_s if duration_s else entry["rps"]
    if open_loop and target_rps and sent_rps < MIN_RATE_FRACTION * target_rps:
        reasons.append(
            f"sent {sent_rps:,.0f} req/s, below {MIN_RATE_FRACTION:.0%} of the {target_rps:,.0f} req/s target"
        )
    lag_limit_us = window.lag_p99_limit_us
    # Lag from every user being busy on a slow system is the system's: only the generator's own counts.
    lag_name, lag_p99_us = guarded_lag(entry)
    if open_loop and lag_limit_us is not None and lag_p99_us > lag_limit_us:
        who = "a free user" if lag_name == "generator lag" else "the generator"
        reasons.append(
            f"{lag_name} p99 {lag_p99_us:,.0f} µs above the {lag_limit_us:,.0f} µs limit:"
            f" {who} could not send on time"
        )
    cpu_limit = window.cpu_limit_percent
    cpu_max = entry["loadgen_cpu_percent"]["max"]
    if cpu_limit is not None and cpu_max > cpu_limit:
        reasons.append(
            f"load-generator CPU {cpu_max:.1f}% above {cpu_limit:g}%:"
            " latencies include queueing inside the generator"
        )
    dropped = dropped_reason(entry.get("user_pool"))
    if dropped is not None:
        reasons.append(dropped)
    if entry["requests"] == 0:
        reasons.append("no successful requests")
    return reasons


def _take(figures: dict[str, float | None], *names: str) -> dict[str, float | None]:
    """Remove and return these figures, in this order."""
    return {name: figures.pop(name) for name in names}


def _window_sections(window: Window, staleness_frame: pd.DataFrame | None) -> dict[str, Any]:
    """The guard's limits, staleness, memory and Locust's exit code: what the phase's window.json holds."""
    return {
        "guard_limits": {
            "min_rate_fraction": MIN_RATE_FRACTION,
            "lag_p99_limit_us": window.lag_p99_limit_us,
            "cpu_limit_percent": window.cpu_limit_percent,
        },
        "staleness": staleness_summary(staleness_frame) if staleness_frame is not None else None,
        "memory": memory_figures(window.key_memory_bytes, window.players),
        "locust_returncode": window.locust_returncode,
    }


def strategy_summary(
    *,
    workers_frame: pd.DataFrame,
    interval_frame: pd.DataFrame,
    node_frame: pd.DataFrame,
    refresh_frame: pd.DataFrame,
    window: Window,
    histograms: Mapping[str, HdrHistogram],
    staleness_frame: pd.DataFrame | None = None,
    commandstats_frame: pd.DataFrame | None = None,
    error_frame: pd.DataFrame | None = None,
    interval_records: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The summary.json entry of one strategy; histograms maps HDR_KINDS to merged HdrHistograms.

    ``error_frame``: its rows of frames.interval_errors (failed reads per second and kind).
    ``interval_records``: its intervals.jsonl rows as written (the pool's growths are lists in them).
    """
    duration_s = duration_s_of(workers_frame)
    per_node = per_node_figures(node_frame, duration_s, commandstats_frame)
    totals = totals_of(workers_frame, per_node, duration_s, window.relay_cpu_s)
    # The flat figures come from the metric table; _take places them in the schema's order
    # (docs/run-directory.md).
    # A dict display is evaluated left to right, so **figures at the end holds the figures not placed
    # above: one added to the table appears there without a change here.
    figures = metrics.figures(totals)
    own_lag_us = generator_lag_us(dict(histograms))  # None: a run from before the lag was split
    exhausted = (
        users_exhausted(
            interval_frame, float(workers_frame["t_start_s"].min()), window.users, totals.attempts
        )
        if own_lag_us is not None and window.mode == "open"
        else None
    )
    raw = hdr.hdr_stats(histograms["raw"])
    pool = (
        user_pool(
            interval_records or [],
            [{str(k): v for k, v in row.items()} for row in workers_frame.to_dict("records")],
            float(workers_frame["t_start_s"].min()),
            totals.attempts,
            raw if histograms["raw"].get_total_count() else None,
        )
        if window.mode == "open"
        else None
    )
    if exhausted is not None and pool is not None:
        exhausted["users"] = pool["end"]  # the in-flight limit the pool had grown to
    if exhausted is not None:
        # Always present (null without a catch-up), so every run's summary has the same shape.
        catch_up = histograms.get(CATCH_UP)
        counted = catch_up is not None and catch_up.get_total_count()
        exhausted["catch_up_lag_us_p99"] = hdr.hdr_stats(catch_up)["p99"] if counted else None
    entry: dict[str, Any] = {
        **_take(figures, "requests", "failures", "partial", "fallbacks"),
        "failures_by_kind": failures_by_kind(error_frame),
        **_take(figures, "duration_s", "rps"),
        "target_rps": window.target_rps,
        "mode": window.mode,
        "workers": window.workers,
        "latency_us": hdr.hdr_stats(histograms["corrected"]),
        "latency_us_raw": raw,
        "schedule_lag_us": hdr.hdr_stats(histograms["lag"]),
        "generator_lag_us": own_lag_us,
        "users_exhausted": exhausted,
        "user_pool": pool,
        "schedule_lag_cause": None,  # set below, once the guard's figures are in
        **_take(figures, "redis_commands_per_request", "bytes_out_per_request", "bytes_in_per_request"),
        **_take(
            figures,
            "client_commands_per_request",
            "client_bytes_out_per_request",
            "client_bytes_in_per_request",
        ),
        "cross_check": cross_check(totals.redis, totals.client),
        **_take(figures, "client_cpu_us_per_request", "client_cpu_us_per_request_marginal"),
        "loadgen_cpu_percent": loadgen_cpu_percent(interval_frame, workers_frame),
        **_take(figures, "redis_ops_per_s", "redis_cpu_us_per_request", "relay_cpu_us_per_request"),
        "redis_command_us_per_request": None
        if commandstats_frame is None
        else command_us_per_request(commandstats_frame, node_frame, totals.attempts),
        "nodes_per_request": nodes_per_request(per_node),
        **figures,
        "per_node": per_node,
        "refresher": refresher_section(refresh_frame, window.refresh_interval_s),
        "writes": writes_section(workers_frame, histograms["write"], window.read_write_ratio),
        **_window_sections(window, staleness_frame),
    }
    if entry["refresher"] is not None:
        entry["refresher"]["spike"] = refresh_spike(entry["refresher"], entry)
    if window.mode == "open":
        entry["schedule_lag_cause"] = lag_cause(entry, window.lag_p99_limit_us, window.cpu_limit_percent)
    reasons = guard_reasons(entry, window)
    entry["valid"] = not reasons
    entry["invalid_reason"] = "; ".join(reasons) if reasons else None
    return entry


def _histograms(records: list[dict[str, Any]]) -> dict[str, HdrHistogram]:
    """Each HDR kind merged; gen_lag outside the seconds with exhausted users, those apart (CATCH_UP)."""
    histograms = {kind: hdr.merged_records(records, kind) for kind in HDR_KINDS}
    if records and "exhausted" in records[0]:  # runs before schema 4 have no split to make
        histograms["gen_lag"], histograms[CATCH_UP] = split_generator_lag(records)
    return histograms


def build_summary(run_dir: Path, rtt_profiles: tuple[RttProfile, ...] = ()) -> Summary:
    """A run directory's summary; ``rtt_profiles`` join the built-in network profiles.

    Each section is assembled as JSON values by the builders of this stage, then the whole is read into
    the typed summary (runfiles.summary), through which it is written and read from here on.
    """
    meta = frames.read_json(RunFiles(run_dir).meta)
    options = meta.get("options", {})
    workers_frame = frames.workers(run_dir)
    interval_frame = frames.intervals(run_dir)
    node_frame = frames.nodes(run_dir)
    refresh_frame = frames.refreshes(run_dir)
    staleness_frame = frames.staleness(run_dir)
    commandstats_frame = frames.commandstats(run_dir)
    error_frame = frames.interval_errors(run_dir)
    result: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "run_id": meta.get("run_id", run_dir.name),
        "created_utc": meta.get("created_utc"),
        "valid": True,
        "scenario": {
            "players": options.get("players"),
            "shards": options.get("shards"),
            "seed": options.get("seed"),
            "duration_s": options.get("duration_s"),
            "users": options.get("users"),
            "refresh_interval_s": options.get("refresh_interval_s"),
            "cache_top_n": meta.get("cache_top_n"),
            "top_n": options.get("top_n"),
            "server": meta.get("server"),
            "provider": options.get("provider"),
            # The failure policies in force (docs/failure-policies.md); None in runs from before them.
            "failure_policies": {key: options.get(key) for key in FAILURE_POLICY_OPTIONS},
            "containers": _containers(meta.get("topology") or {}),
        },
        "strategies": {},
    }
    for name in frames.strategies(run_dir):
        records = frames.interval_records(run_dir, name)
        result["strategies"][name] = strategy_summary(
            workers_frame=workers_frame[workers_frame["strategy"] == name],
            interval_frame=interval_frame[interval_frame["strategy"] == name],
            node_frame=node_frame[node_frame["strategy"] == name],
            refresh_frame=refresh_frame[refresh_frame["strategy"] == name],
            window=frames.window(run_dir, name),
            histograms=_histograms(records),
            staleness_frame=staleness_frame[staleness_frame["strategy"] == name],
            commandstats_frame=commandstats_frame[commandstats_frame["strategy"] == name],
            error_frame=error_frame[error_frame["strategy"] == name],
            interval_records=records,
        )
        result["strategies"][name]["rank"] = rank_section(run_dir, name)
    result["valid"] = all(s["valid"] for s in result["strategies"].values())
    capacity = capacity_section(read_capacity(run_dir), result["strategies"].get("cached"))
    if capacity is not None:  # runs from before the probe have no capacity.json
        result["capacity"] = capacity
    faults = under_faults(run_dir)
    if faults is not None:  # runs with --fault only (docs/faults.md)
        result["under_faults"] = faults
    network = network_summary(run_dir, rtt_profiles, options.get("sample_every"))
    if network is not None:  # runs that sampled their reads' parts (docs/network-model.md)
        result["network"] = network
    summary = from_json(Summary, result)
    return replace(summary, scale_model=scale_model(run_dir, summary))


def scale_model(run_dir: Path, summary: Summary) -> Plan:
    """The report's scale model: the plan for the default target (the seed's) from this run alone."""
    return replace(make_plan([measured(run_dir, summary)], SEED), runs=None)
