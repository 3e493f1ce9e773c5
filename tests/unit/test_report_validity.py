"""Unit tests for the report's validity banner, new comparison columns, cross-validation and writes."""

from __future__ import annotations

from typing import Any

from analysis.render.report import render_report
from analysis.verdicts.verdict import Verdict
from tests.unit.sample_summary import META, claims_by_key, typed


def _invalidate(summary: dict[str, Any], name: str, reason: str) -> None:
    """Mark a strategy as the saturation guard would."""
    summary["strategies"][name]["valid"] = False
    summary["strategies"][name]["invalid_reason"] = reason
    summary["valid"] = False


LOW_RATE = "sent 1,800 req/s, below 95% of the 2,000 req/s target"
CPU = "load-generator CPU 97.0% above 90%: latencies include queueing inside the generator"


def test_warning_banner_only_when_invalid(summary: dict[str, Any]) -> None:
    assert "Warning" not in render_report(typed(summary), META, {})
    _invalidate(summary, "naive", LOW_RATE)
    report = render_report(typed(summary), META, {})
    title, banner, after = report.split("\n\n", 2)
    assert title.startswith("# Leaderboard benchmark:")
    assert banner.startswith(f"> **Warning: results not valid for naive**: {LOW_RATE} — ")
    assert "the load generator, not Redis, was the limit" in banner
    assert after.startswith("Created ")
    assert report.count("Warning: results not valid") == 1
    _invalidate(summary, "cached", CPU)
    report = render_report(typed(summary), META, {})
    assert "> **Warning: results not valid for cached**: " + CPU in report
    assert report.count("Warning: results not valid") == 2


def test_latency_claims_not_measurable_for_invalid_strategy(summary: dict[str, Any]) -> None:
    _invalidate(summary, "naive", LOW_RATE)
    _invalidate(summary, "cached", CPU)
    claims = claims_by_key(summary)
    assert claims["a"].verdict == Verdict.NOT_MEASURABLE
    assert claims["a"].reason == f"naive run not valid: {LOW_RATE}"
    assert claims["b"].verdict == Verdict.NOT_MEASURABLE
    assert claims["b"].reason == f"cached run not valid: {CPU}"
    assert "p99 0.900 ms" in claims["b"].measured  # the figure is still shown
    # Claims on counts and bytes do not depend on the generator keeping up.
    assert claims["c"].verdict == Verdict.HOLDS
    assert claims["e"].verdict == Verdict.DOES_NOT_HOLD


def test_claim_a_drops_ratio_against_invalid_cached(summary: dict[str, Any]) -> None:
    _invalidate(summary, "cached", CPU)
    claim = claims_by_key(summary)["a"]
    assert claim.verdict == Verdict.DOES_NOT_HOLD
    assert "ratio" not in claim.measured


def _table_rows(report: str, section: str) -> list[dict[str, str]]:
    """The first table of a report section as header -> cell dicts."""
    body = report.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in body.splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [
        dict(zip(header, [c.strip() for c in line.strip("|").split("|")], strict=True)) for line in lines[1:]
    ]


def test_comparison_has_target_valid_raw_and_lag(summary: dict[str, Any]) -> None:
    _invalidate(summary, "naive", LOW_RATE)
    naive, cached = _table_rows(render_report(typed(summary), META, {}), "Comparison")
    assert naive["strategy"] == "naive"
    assert naive["valid"] == "no"
    assert cached["valid"] == "yes"
    assert naive["target req/s"] == "2,000.0"
    assert naive["req/s"] == "2,000.0"
    assert naive["p99 (ms)"] == "8.00"
    assert naive["raw p99 (ms)"] == "6.50"
    assert naive["lag p99 (ms)"] == "0.450"
    assert naive["generator CPU max %"] == "61.5"
    summary["strategies"]["naive"]["target_rps"] = None
    naive, _ = _table_rows(render_report(typed(summary), META, {}), "Comparison")
    assert naive["target req/s"] == "none"


def test_cross_validation_table(summary: dict[str, Any]) -> None:
    summary["strategies"]["cached"]["cross_check"] = {
        "commands": 1.02,
        "bytes_out": 1.0,
        "bytes_in": 1.0,
        "agree": False,
    }
    report = render_report(typed(summary), META, {})
    assert "## Cross-validation" in report
    rows = _table_rows(report, "Cross-validation")
    assert list(rows[0]) == [
        "strategy",
        "client cmds/req",
        "Redis cmds/req",
        "cmds ratio",
        "client bytes out/req",
        "Redis bytes out/req",
        "bytes out ratio",
        "client bytes in/req",
        "Redis bytes in/req",
        "bytes in ratio",
        "agree",
    ]
    cells = [list(row.values()) for row in rows]
    assert cells[0] == [
        "naive",
        "10.000",
        "10.000",
        "1.0000",
        "42,400",
        "42,500",
        "1.0024",
        "480",
        "480",
        "1.0000",
        "yes",
    ]
    assert cells[1][0] == "cached"
    assert cells[1][3] == "1.0200"
    assert cells[1][-1] == "no"


def test_writes_section(summary: dict[str, Any]) -> None:
    summary["strategies"]["cached"]["writes"] = None
    report = render_report(typed(summary), META, {})
    writes = report.split("## Writes", 1)[1].split("\n## ", 1)[0]
    assert (
        "- **naive**: 120 ZINCRBYs (0 failed), one per 1,000 reads; latency p50 0.350 ms, p99 0.900 ms"
        in writes
    )
    assert "- **cached**: background writer off." in writes


def test_scenario_describes_open_loop(summary: dict[str, Any]) -> None:
    report = render_report(typed(summary), META, {})
    assert "open-loop schedule of 2,000 req/s from 2 load-generator processes" in report
    summary["strategies"]["naive"]["mode"] = "closed"
    assert "20 concurrent users (closed loop)" in render_report(typed(summary), META, {})
