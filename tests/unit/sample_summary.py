"""A summary.json dict per the README (schema 2): naive and cached over 10 shards, both valid."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from analysis.figures.plan import make_plan, measured
from analysis.figures.target import SEED
from analysis.verdicts.claims import seed_claims
from analysis.verdicts.verdict import Claim
from runfiles.summary import Summary
from runfiles.typed import from_json


def typed(summary: dict[str, Any]) -> Summary:
    """A summary built here as JSON, read the way analysis reads summary.json."""
    return from_json(Summary, summary)


def with_plan(summary: dict[str, Any]) -> Summary:
    """The typed summary with its scale model, the plan for the seed's scenario, as build_summary adds it
    (a run directory with no raw data: no sampled reply times)."""
    read = typed(summary)
    plan = make_plan([measured(Path("no-such-run"), read)], SEED)
    return replace(read, scale_model=plan)


def strategy_entry(**overrides: Any) -> dict[str, Any]:
    """One valid open-loop naive-like entry, with overrides."""
    base: dict[str, Any] = {
        "requests": 120_000,
        "failures": 0,
        "duration_s": 60.0,
        "rps": 2000.0,
        "target_rps": 2000.0,
        "mode": "open",
        "workers": 2,
        "latency_us": {"p50": 3000, "p90": 4500, "p99": 8000, "p999": 15000, "max": 40000, "mean": 3200.0},
        "latency_us_raw": {"p50": 2900, "p90": 4000, "p99": 6500, "p999": 9000, "max": 30000, "mean": 3000.0},
        "schedule_lag_us": {"p50": 40, "p90": 80, "p99": 450, "p999": 900, "max": 2000, "mean": 50.0},
        "client_commands_per_request": 10.0,
        "client_bytes_out_per_request": 42400.0,
        "client_bytes_in_per_request": 480.0,
        "cross_check": {"commands": 1.0, "bytes_out": 1.0024, "bytes_in": 1.0, "agree": True},
        "loadgen_cpu_percent": {"mean": 55.0, "max": 61.5},
        "writes": {
            "requests": 120,
            "failures": 0,
            "latency_us": {"p50": 350, "p90": 500, "p99": 900, "p999": 1000, "max": 1200, "mean": 380.0},
            "read_write_ratio": 1000,
        },
        "valid": True,
        "invalid_reason": None,
        "redis_commands_per_request": 10.0,
        "bytes_out_per_request": 42500.0,
        "bytes_in_per_request": 480.0,
        "client_cpu_us_per_request": 1000.0,
        "redis_ops_per_s": 20000.0,
        "redis_cpu_us_per_request": 120.0,
        "nodes_per_request": 10,
        "per_node": {},
        "refresher": None,
    }
    base.update(overrides)
    return base


def make_summary() -> dict[str, Any]:
    """A summary.json dict per the README: naive and cached over 10 shards."""
    refresher = {
        "interval_s": 60,
        "refreshes": 2,
        "commands_per_refresh": 15.0,
        "bytes_out_per_refresh": 370000.0,
        "bytes_in_per_refresh": 33000.0,
        "duration_ms": {"p50": 12.5, "max": 20.0},
        "commands": 30,
        "bytes_out": 740000,
    }
    cached = strategy_entry(
        requests=600_000,
        rps=10000.0,
        target_rps=10000.0,
        latency_us={"p50": 400, "p90": 600, "p99": 900, "p999": 2000, "max": 9000, "mean": 450.0},
        redis_commands_per_request=1.0,
        bytes_out_per_request=4200.0,
        bytes_in_per_request=60.0,
        redis_ops_per_s=10000.0,
        redis_cpu_us_per_request=5.0,
        nodes_per_request=1,
        refresher=refresher,
        staleness={
            "samples": 60,
            "failed_samples": 0,
            "cache_age_s": {"mean": 30.0, "max": 60.0},
            "entries_differ": {"mean": 1.5, "p95": 4.0, "max": 6},
            "share_of_samples_differing": 0.4,
            "max_rank_displacement": {"mean": 3.0, "max": 12},
            "missing_from_cache_max": 0,
            "max_score_error": 250000.0,
        },
    )
    return {
        "schema_version": 2,
        "valid": True,
        "run_id": "20261127T162000Z-naive-cached",
        "created_utc": "2026-11-27T16:20:00Z",
        "scenario": {
            "players": 1_000_000,
            "shards": 10,
            "seed": 42,
            "duration_s": 60,
            "users": 20,
            "refresh_interval_s": 60,
            "cache_top_n": 1000,
            "top_n": 100,
            "server": "valkey-server 8.1.8",
            "provider": "local",
        },
        "strategies": {"naive": strategy_entry(), "cached": cached},
    }


META: dict[str, Any] = {
    "machine": {"cpu_count": 8, "cpu_model": "Test CPU 3000", "platform": "Linux-6.1-x86_64"},
    "versions": {"redis": "6.2.0", "locust": "2.40.0"},
    "git": {"commit": "0123456789abcdef0123", "dirty": True},
}


def claims_by_key(summary: dict[str, Any]) -> dict[str, Claim]:
    """Seed claims of ``summary`` by their letter, checking all eight came out in order."""
    claims = seed_claims(typed(summary))
    assert [c.key for c in claims] == list("abcdefgh")
    return {c.key: c for c in claims}
