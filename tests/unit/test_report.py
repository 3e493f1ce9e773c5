"""Unit tests for the Markdown report and the seed-claim verdicts (no servers)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from analysis.render.report import render_report
from analysis.verdicts.claims import seed_claims
from analysis.verdicts.verdict import Verdict
from tests.unit.sample_summary import META, claims_by_key, strategy_entry, typed


def test_claim_a_latency_compares_ratio_and_mentions_loopback(summary: dict[str, Any]) -> None:
    claim = claims_by_key(summary)["a"]
    assert claim.verdict == Verdict.DOES_NOT_HOLD
    assert "p50 3.00 ms" in claim.measured
    assert "7.5x" in claim.measured  # 3000 µs / 400 µs
    assert "loopback" in claim.reason
    assert "Python" in claim.reason
    summary["strategies"]["naive"]["latency_us"]["p50"] = 15000
    assert claims_by_key(summary)["a"].verdict == Verdict.HOLDS


def test_claim_b_cached_latency_judged_on_p99(summary: dict[str, Any]) -> None:
    assert claims_by_key(summary)["b"].verdict == Verdict.HOLDS
    summary["strategies"]["cached"]["latency_us"]["p99"] = 1500
    assert claims_by_key(summary)["b"].verdict == Verdict.DOES_NOT_HOLD


def test_claim_c_fan_out_matches_shard_count(summary: dict[str, Any]) -> None:
    claim = claims_by_key(summary)["c"]
    assert claim.verdict == Verdict.HOLDS
    assert "naive 10.00" in claim.measured
    assert "cached 1.00" in claim.measured
    summary["strategies"]["naive"]["redis_commands_per_request"] = 7.0
    assert claims_by_key(summary)["c"].verdict == Verdict.DOES_NOT_HOLD
    summary["scenario"]["shards"] = 7
    assert claims_by_key(summary)["c"].verdict == Verdict.HOLDS


def test_claim_d_projects_commands_per_second(summary: dict[str, Any]) -> None:
    claim = claims_by_key(summary)["d"]
    assert claim.projected == "100,000 Redis commands/s"
    assert claim.verdict == Verdict.HOLDS
    summary["strategies"]["naive"]["redis_commands_per_request"] = 12.0
    claim = claims_by_key(summary)["d"]
    assert claim.projected == "120,000 Redis commands/s"
    assert claim.verdict == Verdict.DOES_NOT_HOLD


def test_claim_e_network_traffic_projection(summary: dict[str, Any]) -> None:
    claim = claims_by_key(summary)["e"]
    assert claim.projected == "425.0 MB/s"
    assert claim.verdict == Verdict.DOES_NOT_HOLD
    assert "42.5 kB/request" in claim.measured
    assert "~1 kB per request" in claim.reason
    summary["strategies"]["naive"]["bytes_out_per_request"] = 1000.0
    claim = claims_by_key(summary)["e"]
    assert claim.projected == "10.0 MB/s"
    assert claim.verdict == Verdict.HOLDS


def test_claim_f_one_command_on_one_node(summary: dict[str, Any]) -> None:
    assert claims_by_key(summary)["f"].verdict == Verdict.HOLDS
    summary["strategies"]["cached"]["nodes_per_request"] = 2
    assert claims_by_key(summary)["f"].verdict == Verdict.DOES_NOT_HOLD
    summary["strategies"]["cached"]["nodes_per_request"] = 1
    summary["strategies"]["cached"]["redis_commands_per_request"] = 1.5
    assert claims_by_key(summary)["f"].verdict == Verdict.DOES_NOT_HOLD


def test_claim_g_projects_from_redis_cpu(summary: dict[str, Any]) -> None:
    claim = claims_by_key(summary)["g"]
    assert claim.verdict == Verdict.NOT_MEASURABLE
    assert claim.projected == "~200,000 req/s per Redis core"  # 1e6 / 5 µs
    assert "above 100k" in claim.reason
    summary["strategies"]["cached"]["rps"] = 150_000.0
    assert claims_by_key(summary)["g"].verdict == Verdict.HOLDS


def test_claim_h_refresher_once_per_interval(summary: dict[str, Any]) -> None:
    claim = claims_by_key(summary)["h"]
    assert claim.verdict == Verdict.HOLDS
    assert "0.25 commands/s" in claim.measured  # 15 commands / 60 s
    assert "20,000 commands/s" in claim.measured
    summary["strategies"]["cached"]["refresher"]["refreshes"] = 50
    assert claims_by_key(summary)["h"].verdict == Verdict.DOES_NOT_HOLD
    summary["strategies"]["cached"]["refresher"] = None
    assert claims_by_key(summary)["h"].verdict == Verdict.NOT_MEASURABLE


def test_missing_strategy_is_not_measurable(summary: dict[str, Any]) -> None:
    del summary["strategies"]["cached"]
    claims = claims_by_key(summary)
    for key in "bfgh":
        assert claims[key].verdict == Verdict.NOT_MEASURABLE, key
        assert claims[key].reason == "strategy not in this run"
    assert claims["c"].verdict == Verdict.HOLDS  # naive-only claims still judged
    assert claims["e"].verdict == Verdict.DOES_NOT_HOLD
    del summary["strategies"]["naive"]
    assert {c.verdict for c in seed_claims(typed(summary))} == {Verdict.NOT_MEASURABLE}


def test_zero_and_null_values_do_not_crash(summary: dict[str, Any]) -> None:
    cached = summary["strategies"]["cached"]
    cached["latency_us"] = {"p50": None, "p90": None, "p99": None, "p999": None, "max": None, "mean": None}
    cached["redis_cpu_us_per_request"] = 0
    cached["refresher"]["interval_s"] = 0
    summary["strategies"]["naive"]["redis_ops_per_s"] = None
    claims = claims_by_key(summary)
    assert claims["b"].verdict == Verdict.NOT_MEASURABLE
    assert claims["g"].projected == "n/a"
    assert claims["h"].verdict == Verdict.NOT_MEASURABLE
    assert "n/a" in render_report(typed(summary), {}, {})


def test_report_comparison_table_has_both_rows(summary: dict[str, Any]) -> None:
    report = render_report(typed(summary), META, {"Latency CDF": "latency_cdf.png"})
    assert report.startswith("# Leaderboard benchmark: 20261127T162000Z-naive-cached\n")
    comparison = report.split("## Comparison", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[1].strip(): line for line in comparison.splitlines() if line.startswith("| ")}
    assert set(rows) == {"strategy", "naive", "cached"}
    assert "p50 (ms)" in rows["strategy"]
    naive_cells = [cell.strip() for cell in rows["naive"].strip("|").split("|")]
    header_cells = [cell.strip() for cell in rows["strategy"].strip("|").split("|")]
    naive = dict(zip(header_cells, naive_cells, strict=True))
    assert naive["requests"] == "120,000"
    assert naive["p50 (ms)"] == "3.00"
    assert naive["p99.9 (ms)"] == "15.0"
    assert naive["Redis cmds/req"] == "10.00"
    assert naive["bytes out/req (kB)"] == "42.5"
    assert naive["nodes/req"] == "10"


def test_report_sections_plots_scenario_and_claims(summary: dict[str, Any]) -> None:
    report = render_report(
        typed(summary), META, {"Latency CDF": "latency_cdf.png", "Ops per node": "ops.png"}
    )
    assert "![Latency CDF](latency_cdf.png)" in report
    assert "![Ops per node](ops.png)" in report
    assert "1,000,000 players across 10 shards" in report
    assert "valkey-server 8.1.8" in report
    assert "Test CPU 3000" in report
    assert "`0123456789ab` (dirty working tree)" in report
    assert "## How to read this report" in report
    assert "## Background refresher" in report
    assert "| cached | 60.0 | 2 | 15.0 | 370.0 |" in report
    claims_section = report.split("## Seed claims vs measured", 1)[1]
    assert "**does not hold**" in claims_section
    assert "425.0 MB/s" in claims_section
    assert "**not measurable here**" in claims_section
    table = [line for line in claims_section.splitlines() if line.startswith("|")]
    assert len(table) == 2 + 8 + 14  # claims a-h, then the qualitative lines i-v
    # Escaped pipes aside, every row must have the header's column count.
    assert {line.replace("\\|", "").count("|") for line in table} == {5}


def test_report_without_refresher_or_meta() -> None:
    bare: dict[str, Any] = {"run_id": "r1", "scenario": {}, "strategies": {"naive": strategy_entry()}}
    report = render_report(typed(bare), {}, {})
    assert "## Background refresher" not in report
    assert "## Plots" not in report
    assert "| naive |" in report
    assert "strategy not in this run" in report


def test_claims_are_immutable(summary: dict[str, Any]) -> None:
    claim = seed_claims(typed(copy.deepcopy(summary)))[0]
    with pytest.raises(AttributeError):
        claim.verdict = Verdict.HOLDS  # type: ignore[misc]


def test_staleness_section_lists_cached_views_and_names_the_live_ones(summary: dict[str, Any]) -> None:
    text = render_report(typed(summary), META, {})
    section = text.split("## Staleness", 1)[1].split("\n## ", 1)[0]
    assert "Not sampled (live data, fresh by construction): naive." in section
    assert "| cached | 60 | 30.0 | 60.0 | 1.50 | 4.0 | 6 | 40% | 12 | 0 |" in section
    del summary["strategies"]["cached"]["staleness"]
    assert "## Staleness" not in render_report(typed(summary), META, {})
