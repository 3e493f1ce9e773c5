"""The capacity probe's pure parts: redis-benchmark's CSV, the p99 search, and the verdicts it feeds."""

from __future__ import annotations

from typing import Any

import pytest

from analysis.figures.capacity import capacity_section
from analysis.verdicts.claims import seed_claims
from analysis.verdicts.tradeoffs import tradeoff_claims
from analysis.verdicts.verdict import Verdict
from bench.errors import RunError
from bench.probes.capacity import best_point, next_requests, sweep
from bench.probes.rbench import BenchPoint, parse_csv
from tests.unit.sample_summary import typed, with_plan

CSV = (
    '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms",'
    '"max_latency_ms"\n"ZRANGE k 0 99 REV WITHSCORES","110497.24","0.024","0.008","0.023","0.039","0.071",'
    '"0.295"\n'
)


def point(clients: int, rps: float, p99_ms: float, requests: int = 10_000) -> BenchPoint:
    return BenchPoint(clients, requests, rps, 0.1, 0.05, 0.2, p99_ms, 2.0, 0.5, 0.25, 0.1)


def test_parse_csv_reads_throughput_and_latencies_in_ms() -> None:
    figures = parse_csv(CSV)
    assert figures["rps"] == pytest.approx(110497.24)
    assert figures["latency_ms_p50"] == pytest.approx(0.023)
    assert figures["latency_ms_p99"] == pytest.approx(0.071)
    assert figures["latency_ms_max"] == pytest.approx(0.295)


@pytest.mark.parametrize(
    "text", ["", CSV.splitlines()[0], '"test","rps"\n"x","1"\n', CSV + CSV.splitlines()[1]]
)
def test_parse_csv_refuses_output_without_exactly_one_full_row(text: str) -> None:
    with pytest.raises(RunError):
        parse_csv(text)


def test_best_point_is_the_fastest_within_the_p99_limit() -> None:
    points = [point(1, 20_000, 0.2), point(8, 60_000, 0.9), point(16, 55_000, 0.8), point(32, 70_000, 1.5)]
    best = best_point(points)
    assert best is not None
    assert best.clients == 8
    assert best_point(points, p99_limit_ms=0.5) == points[0]
    assert best_point([point(1, 9_000, 1.2)]) is None


def test_sweep_stops_after_two_points_in_a_row_over_the_limit() -> None:
    p99_by_clients = {1: 0.1, 2: 1.6, 4: 0.4, 8: 1.3, 16: 1.5, 32: 0.5}
    seen: list[tuple[int, int]] = []

    def run(clients: int, requests: int) -> BenchPoint:
        seen.append((clients, requests))
        return point(clients, 10_000.0 * clients, p99_by_clients[clients], requests)

    points = sweep(run, budget_s=100.0, levels=(1, 2, 4, 8, 16, 32))
    assert [p.clients for p in points] == [1, 2, 4, 8, 16]  # one stall at c=2 does not end it
    assert seen[1][1] == next_requests(points[0], 2)  # sized from the previous rate


def test_sweep_stops_when_the_next_point_would_overrun_the_budget() -> None:
    now = [0.0]

    def run(clients: int, requests: int) -> BenchPoint:
        now[0] += requests / 1_000.0
        return point(clients, 1_000.0, 0.1, requests)

    points = sweep(run, budget_s=6.5, levels=(1, 2, 4, 8), clock=lambda: now[0])
    assert [p.clients for p in points] == [1]  # 5 s spent; the next 2 s point would end at 7+ s
    assert now[0] <= 6.5


def capacity_doc(zset_rps: float, shard_rps: float, server_cpu_s: float = 0.05) -> dict[str, Any]:
    def entry(rps: float) -> dict[str, Any]:
        best = point(16, rps, 0.8, requests=50_000).to_json() | {"server_cpu_s": server_cpu_s}
        return {"command": "X", "node": "n", "points": [best], "capacity": best, "reason": None}

    return {
        "available": True,
        "machine": {"cpu_count": 2},
        "p99_limit_ms": 1.0,
        "commands": {"zset": entry(zset_rps), "blob": entry(zset_rps * 2), "shard": entry(shard_rps)},
    }


def with_capacity(summary: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    summary["strategies"]["cached"]["rps"] = 2_000.0  # the generator alone never shows 10k here
    summary["capacity"] = capacity_section(doc, summary["strategies"]["cached"])
    return summary


def claims(summary: dict[str, Any]) -> dict[str, Any]:
    return {c.key: c for c in [*seed_claims(typed(summary)), *tradeoff_claims(with_plan(summary))]}


def test_capacity_section_derives_per_core_node_counts_and_headroom(summary: dict[str, Any]) -> None:
    section = with_capacity(summary, capacity_doc(50_000, 40_000))["capacity"]
    zset = section["commands"]["zset"]
    assert zset["rps_per_server_core"] == 1_000_000  # 50,000 requests / 0.05 CPU s
    assert zset["rps_per_client_core"] == 200_000  # / 0.25 CPU s
    peak = section["naive_at_seed_peak"]
    assert peak["nodes_needed"] == 3  # 100k shard reads/s / 40k per node
    assert peak["shard_share_of_capacity"] == pytest.approx(0.25)
    cached_cpu_us = summary["strategies"]["cached"]["client_cpu_us_per_request"]
    assert section["headroom"]["harness_rps_per_generator_core"] == round(1e6 / cached_cpu_us)


def test_measured_capacity_replaces_not_measurable(summary: dict[str, Any]) -> None:
    summary["strategies"]["cached"]["rps"] = 2_000.0
    before = claims(summary)
    assert {before[k].verdict for k in "gqv"} == {Verdict.NOT_MEASURABLE}
    after = claims(with_capacity(summary, capacity_doc(120_000, 60_000)))
    assert after["g"].verdict == Verdict.HOLDS
    assert after["q"].verdict == Verdict.HOLDS
    assert after["v"].verdict == Verdict.HOLDS_ONLY_IF
    assert "60,000 req/s" in after["v"].reason
    assert "17%" in after["v"].projected


def test_verdicts_follow_the_measured_figures(summary: dict[str, Any]) -> None:
    slow = claims(with_capacity(summary, capacity_doc(8_000, 5_000, server_cpu_s=1.0)))
    assert slow["g"].verdict == Verdict.DOES_NOT_HOLD
    assert slow["q"].verdict == Verdict.DOES_NOT_HOLD
    assert slow["v"].verdict == Verdict.HOLDS  # 10k reads/s per shard is twice what one serves
    core_bound = claims(with_capacity(summary, capacity_doc(60_000, 60_000, server_cpu_s=0.25)))
    assert core_bound["g"].verdict == Verdict.HOLDS_ONLY_IF  # 200k per server core, 60k per shared node


def test_an_unavailable_probe_keeps_not_measurable_with_its_reason(summary: dict[str, Any]) -> None:
    doc = {"available": False, "reason": "redis-benchmark not found on PATH"}
    found = claims(with_capacity(summary, doc))
    for key in "gqv":
        assert found[key].verdict == Verdict.NOT_MEASURABLE
        assert "redis-benchmark not found on PATH" in found[key].reason
