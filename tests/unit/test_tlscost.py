"""A --tls run's TLS section (analysis/figures/tlscost.py) and what bench runs again in the clear."""

from __future__ import annotations

from typing import Any

from analysis.figures.tlscost import tls_cost
from analysis.render.report import render_report
from bench.run.compare import clear_baseline_options
from bench.run.options import CompareOptions
from bench.topology import Topology, TopologyOptions
from bench.topology.base import endpoints
from bench.wire.policy import ConnectionPolicy
from tests.unit.sample_summary import make_summary, strategy_entry, typed


def summary_of(naive: dict[str, Any], cached: dict[str, Any]) -> dict[str, Any]:
    summary = make_summary()
    summary["strategies"] = {"naive": strategy_entry(**naive), "cached": strategy_entry(**cached)}
    return summary


def lat(p50: float, p99: float) -> dict[str, float]:
    return {"p50": p50, "p90": p99, "p99": p99, "p999": p99, "max": p99, "mean": p50}


CLEAR = summary_of(
    {"latency_us": lat(1000, 2300), "client_cpu_us_per_request": 750, "redis_cpu_us_per_request": 800},
    {"latency_us": lat(280, 700), "client_cpu_us_per_request": 250, "redis_cpu_us_per_request": 125},
)
TLS = summary_of(
    {"latency_us": lat(1260, 4700), "client_cpu_us_per_request": 1040, "redis_cpu_us_per_request": 1130},
    {"latency_us": lat(330, 850), "client_cpu_us_per_request": 290, "redis_cpu_us_per_request": 155},
)


def test_the_tls_line_gives_what_tls_added_and_how_the_gap_moved() -> None:
    line = tls_cost(typed(TLS), typed(CLEAR)).line()
    assert line == (
        "TLS: naive +290 µs client CPU and +330 µs Redis CPU per request, p50 1,000 → 1,260 µs;"
        " cached +40 µs client CPU and +30 µs Redis CPU per request, p50 280 → 330 µs;"
        " naive/cached client CPU 3.0x → 3.6x; naive/cached Redis CPU 6.4x → 7.3x"
    )


def test_the_table_has_a_clear_and_a_tls_column_per_strategy() -> None:
    header, rows = tls_cost(typed(TLS), typed(CLEAR)).table()
    assert header == ["per request", "naive, clear", "naive, TLS", "cached, clear", "cached, TLS"]
    assert rows[1] == ["p99 (µs)", "2,300", "4,700", "700", "850"]
    assert rows[3] == ["Redis CPU (µs/req)", "800", "1,130", "125", "155"]


def test_an_invalid_phase_is_left_out_with_its_reason() -> None:
    clear = summary_of({"valid": False, "invalid_reason": "rate 80% of target"}, {})
    cost = tls_cost(typed(TLS), typed(clear))
    assert list(cost.pairs) == ["cached"]
    assert cost.line().endswith("; naive not compared (clear run not valid: rate 80% of target)")
    assert "naive/cached" not in cost.line()


def test_the_report_has_a_tls_section_only_with_a_clear_baseline() -> None:
    with_baseline = render_report(typed(TLS), {}, {}, typed(CLEAR))
    assert "## TLS: what it cost in this run" in with_baseline
    assert "**TLS: naive +290 µs client CPU" in with_baseline
    assert "## TLS" not in render_report(typed(TLS), {}, {})


def topology(provider: str, owns_data: bool, details: dict[str, Any]) -> Topology:
    shards, cache = endpoints(["rediss://127.0.0.1:1"], "rediss://127.0.0.1:2", ConnectionPolicy())
    return Topology(provider, shards, cache, owns_data=owns_data, details=details)


def test_a_tls_run_on_the_harness_servers_runs_naive_and_cached_again_in_the_clear_on_its_image() -> None:
    options = CompareOptions(
        strategies=["naive", "blob", "cached"],
        faults=("stall:cache@5s+2s",),
        topology=TopologyOptions(provider="docker", tls=True, tls_insecure=True),
    )
    clear = clear_baseline_options(options, topology("docker", True, {"image": "lbbench/redis-tls:7.0.15"}))
    assert clear is not None
    assert clear.strategies == ["naive", "cached"]
    assert (clear.faults, clear.capacity_s) == ((), 0.0)
    assert clear.topology.tls is False
    assert clear.topology.tls_insecure is False
    assert clear.topology.image == "lbbench/redis-tls:7.0.15"
    assert clear.rps == options.rps
    assert clear.duration_s == options.duration_s


def test_no_clear_baseline_without_tls_on_servers_the_harness_owns_or_without_naive_and_cached() -> None:
    tls = TopologyOptions(provider="docker", tls=True)
    owned = topology("docker", True, {"image": "x"})
    assert clear_baseline_options(CompareOptions(topology=TopologyOptions()), owned) is None
    assert clear_baseline_options(CompareOptions(topology=tls), topology("external", False, {})) is None
    assert clear_baseline_options(CompareOptions(strategies=["blob"], topology=tls), owned) is None
