"""summary.json's rank section and the report's cache-format and rank sections, from synthetic data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from analysis.figures.rank import rank_section, rank_summary
from analysis.figures.summary import build_summary
from analysis.render.report import render_report
from analysis.verdicts.claims import cache_format_comparison
from tests.unit.sample_summary import META, strategy_entry, typed
from tests.unit.synthetic_run import Redis, steady_worker, write_run


def rank_record(ranks: list[int | None], exact: list[int | None], exact_by_design: bool) -> dict[str, Any]:
    """A rank.json record of four queries costing 12 commands and 400 bytes each way in total."""
    return {
        "strategy": "x",
        "rank_is_exact": exact_by_design,
        "sample": {"uniform": 2, "top_ranks": 2, "top_pool": 10_000},
        "queries": len(ranks),
        "commands": 12,
        "bytes_sent": 400,
        "bytes_received": 800,
        "players": list(range(len(ranks))),
        "exact_rank": exact,
        "rank": ranks,
        "query_us": [100.0, 300.0, 200.0, 50.0],
    }


def test_rank_summary_errors_cost_and_share_exact() -> None:
    section = rank_summary(rank_record([1, 110, 1000, 5000], [1, 100, 1000, 5100], exact_by_design=False))
    assert section["queries"] == 4
    assert section["unanswered"] == 0
    assert section["commands_per_query"] == 3.0
    assert section["bytes_out_per_query"] == 200.0  # what Redis sent = what the client received
    assert section["bytes_in_per_query"] == 100.0
    assert section["query_us_p50"] == 150.0
    assert section["rank_error_abs_p50"] == 5.0  # errors 0, 10, 0, 100
    assert section["rank_error_abs_max"] == 100.0
    assert section["rank_error_abs_p99"] == pytest.approx(97.3)
    # Relative errors 0, 0.1, 0, 100/5100: the median is halfway between 0 and 100/5100.
    assert section["rank_error_rel_p50"] == pytest.approx(100 / 5100 / 2, abs=1e-6)
    assert section["share_exact"] == 0.5
    assert section["rank_is_exact"] is False


def test_rank_summary_counts_unanswered_and_handles_none_answered() -> None:
    section = rank_summary(rank_record([None, 2, 3, None], [1, 2, 3, 4], exact_by_design=True))
    assert section["unanswered"] == 2
    assert section["share_exact"] == 1.0
    empty = rank_summary(rank_record([None] * 4, [1, 2, 3, 4], exact_by_design=True))
    assert empty["rank_error_abs_max"] is None
    assert empty["share_exact"] is None


def test_summary_has_a_rank_entry_per_strategy(tmp_path: Path) -> None:
    redis = Redis(commands=1000, bytes_out=100_000, bytes_in=1000)
    run = write_run(
        tmp_path / "run",
        {name: ([steady_worker("local", 5, 20)], redis, {}) for name in ("naive", "regional")},
    )
    record = rank_record([1, 2, 3, 4], [1, 2, 3, 5], exact_by_design=False)
    (run / "raw" / "regional" / "rank.json").write_text(json.dumps(record))
    summary = build_summary(run).to_json()
    assert summary["strategies"]["naive"]["rank"] is None  # no rank.json: a run from before the check
    assert summary["strategies"]["regional"]["rank"] == rank_section(run, "regional")
    assert summary["strategies"]["regional"]["rank"]["share_exact"] == 0.75


def format_summary(**blob_overrides: Any) -> dict[str, Any]:
    zset = strategy_entry(bytes_out_per_request=2600.0, client_cpu_us_per_request=250.0)
    zset["latency_us"] |= {"p50": 300, "p99": 700}
    blob = strategy_entry(bytes_out_per_request=2010.0, client_cpu_us_per_request=200.0, **blob_overrides)
    blob["latency_us"] |= {"p50": 270, "p99": 560}
    return {"run_id": "r", "scenario": {}, "strategies": {"cached": zset, "blob": blob}}


def test_cache_format_comparison_states_both_formats_and_the_ratios() -> None:
    text = cache_format_comparison(typed(format_summary()))
    assert text is not None
    assert "Sorted set (cached, `ZRANGE ... WITHSCORES`): 2.6 kB/request out of Redis, 250 client CPU" in text
    assert (
        "Blob (blob, `GETRANGE` of fixed-width records): 2.0 kB/request out of Redis, 200 client CPU" in text
    )
    assert "p50 0.300 ms, p99 0.700 ms" in text
    assert "Blob / sorted set: bytes 0.77x, client CPU 0.80x, p50 0.90x, p99 0.80x." in text
    assert "Not valid" not in text
    assert "RAM" not in text  # no memory figures in this summary
    summary = format_summary()
    summary["strategies"]["cached"]["memory"] = {"cache_key_bytes": 88_568}
    summary["strategies"]["blob"]["memory"] = {"cache_blob_bytes": 20_056}
    with_ram = cache_format_comparison(typed(summary))
    assert with_ram is not None
    assert with_ram.endswith("Cache key in RAM (MEMORY USAGE): sorted set 88.6 kB, blob 20.1 kB.")
    invalid = cache_format_comparison(typed(format_summary(valid=False, invalid_reason="lag")))
    assert invalid is not None
    assert "Not valid: blob" in invalid
    assert cache_format_comparison(typed({"strategies": {"cached": strategy_entry()}})) is None


def test_report_has_format_and_rank_sections_only_when_measured() -> None:
    summary = format_summary()
    summary["strategies"]["cached"]["rank"] = rank_summary(rank_record([1, 2, 3, 4], [1, 2, 3, 4], True))
    summary["strategies"]["blob"]["rank"] = None
    report = render_report(typed(summary), META, {})
    assert "## Cache format: sorted set vs blob\n\nSorted set (cached" in report
    rank_part = report.split("## A player's global rank", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in rank_part.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| strategy | exact by design | queries | cmds/query |")
    assert rows[1] == "| cached | yes | 4 | 3.00 | 200 | 100 | 150 | 0 / 0 / 0 | 0.000% / 0.000% | 100.0% |"
    assert len(rows) == 2  # blob had no rank check
    bare = render_report(
        typed({"run_id": "r", "scenario": {}, "strategies": {"naive": strategy_entry()}}), {}, {}
    )
    assert "## Cache format" not in bare
    assert "## A player's global rank" not in bare
