"""The metric table and what derives from it: report columns, exact keys, sweep fields, summary figures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis import metrics
from analysis.figures.sections import marginal_cpu_s
from analysis.figures.summary import build_summary
from analysis.figures.sweep import TIDY_FIELDS
from analysis.gate.checks import EXACT_KEYS, Metric, parse_check
from analysis.metrics import METRICS, Totals, Traffic
from analysis.render.report import (
    COMPARISON_COLUMNS,
    CROSS_CHECK_COLUMNS,
    MEMORY_COLUMNS,
    RANK_COLUMNS,
    REFRESHER_COLUMNS,
    STALENESS_REPORT_COLUMNS,
)
from tests.unit.synthetic_run import Redis, steady_worker, write_run

# Before the table, these were written out by hand; the table must reproduce them exactly.
EXACT_KEYS_BEFORE = {
    "redis_commands_per_request",
    "client_commands_per_request",
    "bytes_out_per_request",
    "bytes_in_per_request",
    "client_bytes_out_per_request",
    "client_bytes_in_per_request",
    "nodes_per_request",
    "failures",
    "partial",
    "fallbacks",
    "valid",
    "agree",
    "commands_per_refresh",
    "bytes_out_per_refresh",
    "bytes_in_per_refresh",
}
TIDY_FIELDS_BEFORE = (
    ("valid", ("valid",)),
    ("rps", ("rps",)),
    ("target_rps", ("target_rps",)),
    ("latency_us_p50", ("latency_us", "p50")),
    ("latency_us_p99", ("latency_us", "p99")),
    ("redis_commands_per_request", ("redis_commands_per_request",)),
    ("bytes_out_per_request", ("bytes_out_per_request",)),
    ("client_cpu_us_per_request", ("client_cpu_us_per_request",)),
    ("client_cpu_us_per_request_marginal", ("client_cpu_us_per_request_marginal",)),
    ("redis_cpu_us_per_request", ("redis_cpu_us_per_request",)),
    ("refresh_interval_s", ("refresher", "interval_s")),
    ("refresh_commands", ("refresher", "commands_per_refresh")),
    ("refresh_bytes_out", ("refresher", "bytes_out_per_refresh")),
    ("stale_entries_mean", ("staleness", "entries_differ", "mean")),
    ("stale_entries_max", ("staleness", "entries_differ", "max")),
    ("stale_displacement_mean", ("staleness", "max_rank_displacement", "mean")),
    ("stale_displacement_max", ("staleness", "max_rank_displacement", "max")),
    ("cache_age_s_mean", ("staleness", "cache_age_s", "mean")),
)
HEADERS_BEFORE = {
    "comparison": (
        COMPARISON_COLUMNS,
        "valid|requests|failures|partial|fallbacks|target req/s|req/s|p50 (ms)|p90 (ms)|p99 (ms)|p99.9 (ms)"
        "|max (ms)|raw p99 (ms)|lag p99 (ms)|generator lag p99 (ms)|Redis cmds/req|bytes out/req (kB)"
        "|bytes in/req (B)|client CPU µs/req|generator CPU max %|Redis CPU µs/req|Redis ops/s|nodes/req",
    ),
    "cross_check": (
        CROSS_CHECK_COLUMNS,
        "client cmds/req|Redis cmds/req|cmds ratio|client bytes out/req|Redis bytes out/req|bytes out ratio"
        "|client bytes in/req|Redis bytes in/req|bytes in ratio|agree",
    ),
    "refresher": (
        REFRESHER_COLUMNS,
        "interval (s)|refreshes|commands/refresh|bytes out/refresh (kB)|bytes in/refresh (kB)"
        "|duration p50 (ms)|duration max (ms)|commands/s",
    ),
    "staleness": (
        STALENESS_REPORT_COLUMNS,
        "samples|cache age mean (s)|cache age max (s)|top-n entries differing: mean|p95|max|samples differing"
        "|max rank displacement|missing from cache (max)",
    ),
    "memory": (MEMORY_COLUMNS, "shard keys (MB)|bytes/player|cache key (kB)|cache / shards|global set (MB)"),
    "rank": (
        RANK_COLUMNS,
        "exact by design|queries|cmds/query|bytes out/query|bytes in/query|µs/query p50"
        "|abs error p50 / p99 / max|rel error p50 / p99|share exact",
    ),
}
# summary.json's key order for one strategy (docs/run-directory.md's schema), which the table must not move.
ENTRY_KEYS = [
    "requests",
    "failures",
    "partial",
    "fallbacks",
    "failures_by_kind",
    "duration_s",
    "rps",
    "target_rps",
    "mode",
    "workers",
    "latency_us",
    "latency_us_raw",
    "schedule_lag_us",
    "generator_lag_us",
    "users_exhausted",
    "user_pool",
    "schedule_lag_cause",
    "redis_commands_per_request",
    "bytes_out_per_request",
    "bytes_in_per_request",
    "client_commands_per_request",
    "client_bytes_out_per_request",
    "client_bytes_in_per_request",
    "cross_check",
    "client_cpu_us_per_request",
    "client_cpu_us_per_request_marginal",
    "loadgen_cpu_percent",
    "redis_ops_per_s",
    "redis_cpu_us_per_request",
    "relay_cpu_us_per_request",
    "redis_command_us_per_request",
    "nodes_per_request",
    "redirects_per_request",
    "per_node",
    "refresher",
    "writes",
    "guard_limits",
    "staleness",
    "memory",
    "locust_returncode",
    "valid",
    "invalid_reason",
    "rank",
]


def test_exact_keys_are_the_exact_rows_and_unchanged() -> None:
    assert EXACT_KEYS == metrics.exact_leaf_keys() == EXACT_KEYS_BEFORE


def test_every_row_gets_the_gates_verdict_for_its_kind() -> None:
    for row in METRICS:
        if row.path is not None:
            assert Metric(("naive", *row.path)).exact == (row.kind == metrics.EXACT), row.name


def test_sweep_fields_are_unchanged() -> None:
    assert TIDY_FIELDS == metrics.tidy_fields() == TIDY_FIELDS_BEFORE


@pytest.mark.parametrize("table", sorted(HEADERS_BEFORE))
def test_report_headers_are_unchanged(table: str) -> None:
    columns, headers = HEADERS_BEFORE[table]
    assert "|".join(header for header, _ in columns) == headers


def test_rows_are_well_formed() -> None:
    names = [row.name for row in METRICS]
    assert len(names) == len(set(names))
    for row in METRICS:
        if row.figure is not None:
            assert row.path == (row.name,), f"{row.name}: a computed figure is a flat summary key"
        assert (row.tolerance is not None) == (row.kind == metrics.EXACT), row.name
        assert row.better is None or row.path is not None, row.name
        assert row.better is None or not row.tolerance, f"{row.name}: a one-sided check has no tolerance"
        for show in row.shows:
            if row.path is None:
                assert show.whole, f"{row.name}: a row without a path renders the whole section"
            else:
                assert row.path[: len(show.table.root)] == show.table.root, row.name
            in_table = {other.name for other in METRICS if any(s.table == show.table for s in other.shows)}
            assert show.before is None or show.before in in_table, row.name


def test_default_checks_name_exact_and_timing_metrics() -> None:
    checks = metrics.default_checks("naive")
    assert "naive.redis_commands_per_request == baseline" in checks
    assert "naive.nodes_per_request == baseline" in checks
    assert "naive.bytes_out_per_request == baseline +- 1%" in checks
    assert "naive.refresher.bytes_in_per_refresh == baseline +- 1%" in checks
    # A flag or a failure count only regresses one way: a run that became valid passes.
    assert "naive.valid >= baseline" in checks
    assert "naive.cross_check.agree >= baseline" in checks
    assert "naive.failures <= baseline" in checks
    assert "naive.partial <= baseline" in checks
    assert "naive.fallbacks <= baseline" in checks
    assert "naive.latency_us.p50 <= baseline" in checks
    assert "naive.latency_us.p99 <= baseline" in checks
    assert "naive.client_cpu_us_per_request <= baseline" in checks
    exact = [c for c in checks if parse_check(c).exact]
    assert {c.split()[0].rsplit(".", 1)[-1] for c in exact} == EXACT_KEYS_BEFORE
    assert len(checks) == len(EXACT_KEYS_BEFORE) + 3


def test_figures_from_totals_round_like_the_summary() -> None:
    totals = Totals(
        requests=599,
        failures=1,
        duration_s=3.0004,
        redis=Traffic(commands=6001.0, bytes_out=12_961_234.0, bytes_in=450_011.0),
        client=Traffic(commands=6000.0, bytes_out=12_961_000.0, bytes_in=450_000.0),
        redis_cpu_s=0.123456,
        client_cpu_s=0.306,
    )
    assert metrics.figures(totals) == {
        "requests": 599,
        "failures": 1,
        "partial": 0,
        "fallbacks": 0,
        "duration_s": 3.0,
        "rps": 199.6,
        "client_commands_per_request": 10.0,
        "redis_commands_per_request": 10.0017,
        "client_bytes_out_per_request": 21601.7,
        "bytes_out_per_request": 21602.1,
        "client_bytes_in_per_request": 750.0,
        "bytes_in_per_request": 750.0,
        "client_cpu_us_per_request": 510.0,
        "client_cpu_us_per_request_marginal": None,  # no idle baseline measured
        "redis_cpu_us_per_request": 205.8,
        "redis_ops_per_s": 2000.1,
        "relay_cpu_us_per_request": None,  # nothing relayed the traffic
        "redirects_per_request": 0.0,  # no cluster moved a slot under the load
    }
    relayed = Totals(599, 1, 3.0, totals.redis, totals.client, 0.1, 0.3, relay_cpu_s=0.0301)
    assert metrics.figures(relayed)["relay_cpu_us_per_request"] == 50.2
    marginal = Totals(599, 1, 3.0, totals.redis, totals.client, 0.1, 0.3, client_cpu_marginal_s=0.12)
    assert metrics.figures(marginal)["client_cpu_us_per_request_marginal"] == 200.0
    unknown = Totals(0, 0, 0.0, Traffic(0.0, 0.0, 0.0), Traffic(0.0, 0.0, 0.0), 0.0, 0.0)
    assert metrics.figures(unknown)["rps"] == 0.0
    assert metrics.figures(unknown)["redis_ops_per_s"] == 0.0


def _naive_entry(tmp_path: Path) -> dict[str, object]:
    workers = [steady_worker("w0", 5, 100)]
    run = write_run(tmp_path / "run", {"naive": (workers, Redis(5_000, 10_000_000, 300_000), {})})
    entry: dict[str, object] = build_summary(run).to_json()["strategies"]["naive"]
    return entry


def test_summary_keeps_its_key_order(tmp_path: Path) -> None:
    assert list(_naive_entry(tmp_path)) == ENTRY_KEYS


def test_a_figure_added_to_the_table_lands_after_the_flat_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    added = metrics.timing(
        "redis_bytes_per_request",
        figure=metrics.per_request(lambda t: t.redis.bytes_out + t.redis.bytes_in, 1),
    )
    monkeypatch.setattr(metrics, "METRICS", (*METRICS, added))
    entry = _naive_entry(tmp_path)
    keys = list(entry)
    assert keys.index("redis_bytes_per_request") == keys.index("redirects_per_request") + 1
    assert entry["redis_bytes_per_request"] == 20_600.0  # (10,000,000 + 300,000) / 500 requests


def test_marginal_cpu_takes_each_process_idle_rate_out() -> None:
    workers = pd.DataFrame(
        {
            "idle_cpu_s": [0.05, 0.02],  # 5% and 2% idle
            "idle_wall_s": [1.0, 1.0],
            "window_cpu_s": [3.0, 2.0],
            "window_wall_s": [10.0, 10.0],
        }
    )
    assert marginal_cpu_s(workers) == pytest.approx(3.0 - 0.5 + 2.0 - 0.2)
    # A process stopped before its window closed, or a run from before the baseline: unknown.
    assert marginal_cpu_s(workers.assign(window_wall_s=[10.0, 0.0])) is None
    assert marginal_cpu_s(workers.drop(columns="idle_cpu_s")) is None
