"""The "Under faults" figures from synthetic frames: windows, availability, p99, recovery, load, verdicts."""

from __future__ import annotations

import pandas as pd
from hdrh.histogram import HdrHistogram

from analysis.figures.underfaults import FaultWindow, PhaseView, fault_row, fault_windows, seconds_frame
from analysis.render.faultreport import faults_section
from runfiles import new_histogram
from tests.unit.sample_summary import typed

PHASE_S = 20.0


def _actions(*rows: tuple[float, str, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["t_rel_s", "fault", "kind", "target", "action"])


def test_a_window_runs_from_its_start_action_to_its_undo() -> None:
    rows = _actions(
        (5.0, "stall:shard=1,at=5s,for=3s", "stall", "shard-1", "pause"),
        (8.0, "stall:shard=1,at=5s,for=3s", "stall", "shard-1", "resume"),
        (10.0, "kill:shard=0,at=10s", "kill", "shard-0", "kill"),
        (20.5, "kill:shard=0,at=10s", "kill", "shard-0", "restart"),  # the phase's end heals it
        (12.0, "refresher-dead:at=12s", "refresher-dead", "refresher", "skipped"),
    )
    assert fault_windows(rows, PHASE_S) == [
        FaultWindow("stall:shard=1,at=5s,for=3s", "stall", "shard-1", 5.0, 8.0),
        FaultWindow("kill:shard=0,at=10s", "kill", "shard-0", 10.0, None),
    ]


def _intervals(failing: range, partial: range = range(0)) -> pd.DataFrame:
    """Two workers, 100 attempts a second each; the seconds in ``failing`` fail half of theirs."""
    rows = []
    for worker in ("w0", "w1"):
        for second in range(int(PHASE_S)):
            failures = 50 if second in failing else 0
            rows.append(
                {
                    "strategy": "naive",
                    "worker": worker,
                    "t_rel_s": second + 0.01,
                    "requests": 100 - failures,
                    "failures": failures,
                    "partial": 10 if second in partial else 0,
                    "fallbacks": 0,
                }
            )
    return pd.DataFrame(rows)


def _histograms(slow: range, slow_us: int = 900_000) -> list[tuple[float, HdrHistogram]]:
    out = []
    for second in range(int(PHASE_S)):
        histogram = new_histogram()
        histogram.record_value(slow_us if second in slow else 500, 200)
        out.append((float(second), histogram))
    return out


def _nodes(before_ops: float, during_ops: float, start_s: float, end_s: float) -> pd.DataFrame:
    rows = []
    for second in range(1, int(PHASE_S)):
        for node in ("shard-0", "shard-1", "shard-2"):
            ops = during_ops if start_s < second - 0.5 < end_s else before_ops
            rows.append(
                {"strategy": "naive", "node": node, "t_rel_s": float(second), "workload_ops_per_s": ops}
            )
    return pd.DataFrame(rows)


def _view(
    seconds: pd.DataFrame, histograms: list[tuple[float, HdrHistogram]], nodes: pd.DataFrame
) -> PhaseView:
    staleness = pd.DataFrame(columns=["strategy", "t_rel_s", "cache_age_s", "entries_differ"])
    return PhaseView("naive", PHASE_S, 1.0, seconds, histograms, staleness, nodes, pd.DataFrame())


def test_a_row_measures_the_window_and_the_recovery_after_it() -> None:
    window = FaultWindow("stall:shard=1,at=5s,for=3s", "stall", "shard-1", 5.0, 8.0)
    seconds = seconds_frame(_intervals(failing=range(5, 8)), "naive")
    assert list(seconds["requests"][:2]) == [200, 200]
    # Slow through the window and two seconds past it: recovered 2 s after the undo.
    view = _view(seconds, _histograms(slow=range(5, 10)), _nodes(100.0, 150.0, 5.0, 8.0))
    row = fault_row(view, window)
    # The intervals overlapping 5..9 s (the window plus the 1 s timeout after it) start at 4.01 ..
    # 8.01: 1,000 attempts, of which 5..7 failed half.
    assert row["attempts"] == 1000
    assert row["availability"] == 0.7
    assert row["failures_outside"] == 0
    assert (row["latency_us_p99_before"] or 0) < 1000
    assert (row["latency_us_p99_during"] or 0) > 800_000
    assert row["recovery_s"] == 2.0  # the first healthy interval starts at 10.01
    # The two surviving shards: 2 x 100 ops/s before, 2 x 150 during.
    assert row["other_nodes_ops_per_s_before"] == 200.0
    assert row["other_nodes_ops_per_s_during"] == 300.0
    assert row["cache_age_s_max"] is None


def test_a_fault_never_undone_has_no_recovery() -> None:
    window = FaultWindow("kill:shard=0,at=10s", "kill", "shard-0", 10.0, None)
    seconds = seconds_frame(_intervals(failing=range(10, 20)), "naive")
    row = fault_row(_view(seconds, _histograms(slow=range(0)), pd.DataFrame()), window)
    assert row["recovery_s"] is None
    assert row["availability"] == 1200 / 2200  # the intervals from 9.01 on: 10 half failed
    assert row["other_nodes_ops_per_s_during"] is None


def _row(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "strategy": "cached", "fault": "stall:shard=1,at=5s,for=3s", "kind": "stall", "target": "shard-1",
        "start_s": 5.0, "end_s": 8.0, "attempts": 600, "availability": 1.0, "partial_share": 0.0,
        "fallbacks": 0, "latency_us_p99_before": 400.0, "latency_us_p99_during": 450.0,
        "cache_age_s_max": 7.5, "stale_after_s": None, "cache_age_s_when_stale": None,
        "recovery_s": 0.0, "other_nodes_ops_per_s_before": 500.0, "other_nodes_ops_per_s_during": 500.0,
    }  # fmt: skip
    return row | changes


def test_the_section_gives_the_seeds_verdicts_under_faults() -> None:
    summary = {
        "scenario": {"duration_s": PHASE_S, "failure_policies": {"naive_on_shard_error": "fail"}},
        "strategies": {
            "naive": {"requests": 3400, "failures": 600},
            "cached": {"requests": 4000, "failures": 0},
        },
        "under_faults": [
            _row(strategy="naive", availability=0.0, cache_age_s_max=None),
            _row(),
            _row(fault="refresher-dead:at=10s", kind="refresher-dead", target="refresher", start_s=10.0,
                 end_s=None, cache_age_s_max=11.0, stale_after_s=4.0, cache_age_s_when_stale=5.0),
        ],
    }  # fmt: skip
    text = "\n".join(faults_section(typed(summary)))
    assert "## Under faults" in text
    assert "`--naive-on-shard-error fail`" in text
    assert "keeps serving while a shard is down: holds" in text
    # shard-1 down 3 s of 20: 85%; naive served 3,400 of 4,000 = 85%.
    assert "product of its shards': holds" in text
    assert "shard-1 85.0%" in text
    assert "differed from the truth 4.0 s after it died, at a cache age of 5.0 s" in text
    assert faults_section(typed({"strategies": {}})) == []
