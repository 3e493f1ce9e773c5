"""Failure policies without servers: partial flag, options, recording, run files, report."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from analysis.figures.summary import build_summary
from analysis.load import frames
from analysis.render.report import render_report
from bench.errors import UsageError
from bench.run.options import CompareOptions
from bench.wire.failure import CacheEmptyError, FailurePolicy
from bench.wire.merge import Ranking, merge_top
from loadgen.recorder import IntervalRecorder
from runfiles import REFRESH_COLUMNS, RunFiles, write_csv, write_jsonl
from tests.unit.sample_summary import META, make_summary, typed
from tests.unit.synthetic_run import T0_S, Redis, steady_worker, write_run


def test_a_merge_of_the_shards_that_answered_is_flagged_partial() -> None:
    answered = [[b"a", b"9", b"b", b"3"], [b"c", b"5"]]
    ranking = Ranking(scored=merge_top(answered, 2), missing=1)
    assert ranking.partial
    assert ranking.missing == 1
    assert ranking.rows() == [(b"a", 9.0), (b"c", 5.0)]
    assert not Ranking(flat=[b"a", b"1"]).partial
    assert not Ranking(scored=[]).partial


def test_defaults_fail_and_bad_policies_are_usage_errors() -> None:
    assert FailurePolicy() == FailurePolicy("fail", "none", "keep")
    assert not FailurePolicy().problems()
    assert str(CacheEmptyError("lb:global:cache")) == "cache empty: lb:global:cache"
    for field, flag in (
        ("naive_on_shard_error", "--naive-on-shard-error must be one of fail, partial, got 'retry'"),
        ("cached_fallback", "--cached-fallback must be one of none, naive, got 'retry'"),
        ("refresher_on_shard_error", "--refresher-on-shard-error must be one of keep, partial, got 'retry'"),
    ):
        options = CompareOptions(**{field: "retry"})  # type: ignore[arg-type]
        with pytest.raises(UsageError, match=flag):
            options.validate()


def test_policies_reach_meta_options() -> None:
    options = CompareOptions(naive_on_shard_error="partial", cached_fallback="naive")
    data = options.as_json()
    assert (data["naive_on_shard_error"], data["cached_fallback"], data["refresher_on_shard_error"]) == (
        "partial",
        "naive",
        "keep",
    )
    assert options.failure_policy.naive_partial
    assert options.failure_policy.cached_falls_back


def test_recorder_counts_partial_fallbacks_and_error_kinds_per_interval() -> None:
    recorder = IntervalRecorder("local")
    recorder.add_read(0, 1_000, 5_000, None)
    recorder.add_read(0, 1_000, 5_000, None, partial=True)
    recorder.add_read(0, 1_000, 5_000, None, fallback=True)
    recorder.add_read(0, 1_000, 5_000, TimeoutError("shard-1"), fallback=True)
    recorder.add_read(0, 1_000, 5_000, TimeoutError("shard-2"))
    recorder.add_read(0, 1_000, 5_000, ConnectionError("refused"))
    row = recorder.flush(T0_S, 1.0, 10.0)
    assert (row["requests"], row["failures"], row["partial"], row["fallbacks"]) == (3, 3, 1, 2)
    assert row["error_kinds"] == {"TimeoutError": 2, "ConnectionError": 1}
    empty = recorder.flush(T0_S + 1, 1.0, 10.0)
    assert (empty["partial"], empty["fallbacks"], empty["error_kinds"]) == (0, 0, {})
    assert (recorder.totals["partial"], recorder.totals["fallbacks"]) == (1, 2)


def _run_with_failures(tmp_path: Path) -> Path:
    run = write_run(tmp_path / "run", {"naive": ([steady_worker("local", 3, 10)], _redis(), {})})
    phase = RunFiles(run).phase("naive")
    rows = [
        {"worker": "local", "t_s": T0_S + k, "dt_s": 1.0, "requests": 10, "failures": k, "partial": 2,
         "fallbacks": 0, "error_kinds": {"TimeoutError": k} if k else {}, "writes": 0, "write_failures": 0,
         "cpu_percent": 5.0, "hist": {}}
        for k in range(3)
    ]  # fmt: skip
    write_jsonl(phase.intervals, rows)
    return run


def _redis() -> Redis:
    return Redis(100, 10_000, 1_000)


def test_error_kinds_become_a_long_frame_and_the_summary_counts_them(tmp_path: Path) -> None:
    run = _run_with_failures(tmp_path)
    errors = frames.interval_errors(run)
    assert list(errors.columns) == frames.ERROR_COLUMNS
    assert errors[["t_rel_s", "kind", "count"]].values.tolist() == [
        [1.0, "TimeoutError", 1],
        [2.0, "TimeoutError", 2],
    ]
    intervals = frames.intervals(run)
    assert intervals["partial"].sum() == 6
    entry = build_summary(run).to_json()["strategies"]["naive"]
    assert entry["failures_by_kind"] == {"TimeoutError": {"count": 3, "peak_per_s": 2}}
    assert (entry["partial"], entry["fallbacks"]) == (0, 0)  # totals come from workers.json: none there


def test_refreshes_without_the_shards_missing_column_still_load(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", {"cached": ([steady_worker("local", 3, 10)], _redis(), {})})
    path = RunFiles(run).phase("cached").refreshes
    old = [c for c in REFRESH_COLUMNS if c != "shards_missing"]
    row = {"t_start_s": T0_S, "duration_s": 0.01, "entries": 1000, "commands": 12, "bytes_sent": 1,
           "bytes_received": 2, "ok": True, "error": ""}  # fmt: skip
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=old)
        writer.writeheader()
        writer.writerow(row)
    assert frames.refreshes(run)["shards_missing"].tolist() == [0]
    write_csv(path, REFRESH_COLUMNS, [row | {"shards_missing": 2}, row | {"shards_missing": 0}])
    assert frames.refreshes(run)["shards_missing"].tolist() == [2, 0]


def test_the_report_names_the_policies_in_force_and_the_failures_by_kind() -> None:
    summary = make_summary()
    summary["scenario"]["failure_policies"] = {
        "naive_on_shard_error": "partial",
        "cached_fallback": "naive",
        "refresher_on_shard_error": "keep",
    }
    summary["strategies"]["naive"]["failures_by_kind"] = {"TimeoutError": {"count": 12, "peak_per_s": 5}}
    report = render_report(typed(summary), META, {})
    assert (
        "Failure policies: --naive-on-shard-error partial, --cached-fallback naive,"
        " --refresher-on-shard-error keep (docs/failure-policies.md)." in report
    )
    assert "Failed reads by kind: naive TimeoutError 12 (peak 5/s)." in report
    del summary["scenario"]["failure_policies"]
    assert "--naive-on-shard-error" not in render_report(typed(summary), META, {})
