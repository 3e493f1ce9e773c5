"""Change points over a run history, the history file, and `lbbench gate --history` on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analysis.gate.ab import ALPHA as AB_ALPHA
from analysis.gate.ab import MIN_EFFECT as AB_MIN_EFFECT
from analysis.gate.changepoints import ALPHA, MIN_SEGMENT, change_points
from analysis.gate.history import (
    KEYS,
    MIN_EFFECT,
    RECENT_RUNS,
    append_history,
    history_rows,
    metric_columns,
    otava_export,
    read_history,
    scenario_hash,
)
from lbbench.main import main
from tests.unit.sample_summary import META, make_summary

pytestmark = pytest.mark.usefixtures("keep_signal_handlers")


def test_the_documented_rule_constants() -> None:
    # docs/performance-gate.md states these: p < 0.001, segments of 3, 5% effect, the newest 6 runs.
    assert (ALPHA, MIN_SEGMENT, MIN_EFFECT, RECENT_RUNS) == (0.001, 3, 0.05, 6)
    assert (AB_ALPHA, AB_MIN_EFFECT) == (0.05, 0.05)


def test_a_step_is_found_where_it_starts_and_noise_alone_is_not() -> None:
    rng = np.random.default_rng(7)
    flat = rng.normal(100, 3, 40)
    assert change_points(flat.tolist()) == []
    stepped = np.r_[flat, rng.normal(120, 3, 6)]
    (point,) = change_points(stepped.tolist())
    assert point.index == 40
    assert point.change == pytest.approx(0.2, abs=0.03)
    assert point.p_value < ALPHA


def test_one_outlier_is_not_a_change_and_exact_counters_step_exactly() -> None:
    assert change_points([10.0] * 12 + [30.0] + [10.0] * 12) == []
    (point,) = change_points([22_049.0] * 9 + [24_000.0] * MIN_SEGMENT)
    assert (point.index, point.p_value) == (9, 0.0)
    assert change_points([1.0] * (2 * MIN_SEGMENT - 1)) == []  # too short to split


def summary_with(run_id: str, cached_p50_us: float, naive_p50_us: float = 900.0) -> dict[str, Any]:
    summary = make_summary()
    summary["run_id"] = run_id
    summary["strategies"]["cached"]["latency_us"]["p50"] = cached_p50_us
    summary["strategies"]["naive"]["latency_us"]["p50"] = naive_p50_us
    return summary


def meta_for(run_id: str, minute: int, commit: str) -> dict[str, Any]:
    return META | {
        "run_id": run_id,
        "created_utc": f"2026-12-07T10:{minute:02d}:00+00:00",
        "git": {"commit": commit, "dirty": False, "branch": "main"},
    }


def test_rows_hold_the_keys_and_every_metric_of_the_table(tmp_path: Path) -> None:
    rows = history_rows(summary_with("r1", 170.0), meta_for("r1", 0, "c1"), None)
    assert [row["strategy"] for row in rows] == list(make_summary()["strategies"])
    assert list(rows[0])[: len(KEYS)] == list(KEYS)
    assert set(rows[0]) == {*KEYS, *metric_columns()}
    assert rows[0]["branch"] == "main"
    labelled = history_rows(summary_with("r1", 170.0), meta_for("r1", 0, "c1"), "feature")
    assert labelled[0]["branch"] == "feature"
    assert rows[0]["scenario"] == scenario_hash(make_summary()["scenario"])
    history = tmp_path / "history.csv"
    assert append_history(history, rows) == len(rows)
    assert append_history(history, rows) == 0  # a run already in the file is not added twice
    frame = read_history(history)
    cached = frame[frame["strategy"] == "cached"].iloc[0]
    assert cached["latency_us_p50"] == 170.0
    assert cached["valid"] == 1.0


def write_history(tmp_path: Path, cached_p50s: list[float], per_commit: int = 3) -> Path:
    history = tmp_path / "history.csv"
    for i, p50 in enumerate(cached_p50s):
        run_id = f"run-{i:03d}"
        meta = meta_for(run_id, i, f"commit{i // per_commit:03d}")
        append_history(history, history_rows(summary_with(run_id, p50), meta, None))
    return history


def test_gate_history_fails_on_a_regression_in_the_newest_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(3)
    steady = rng.normal(170, 4, 24).tolist()
    history = write_history(tmp_path, [*steady, *rng.normal(200, 4, 3).tolist()])
    junit = tmp_path / "gate.xml"
    assert main(["gate", "--history", str(history), "--junit-xml", str(junit)]) == 1
    out, err = capsys.readouterr()
    assert "| cached @ " in out
    assert "REGRESSION" in out
    assert "FAIL: history: cached.latency_us_p50" in err
    gate = json.loads(json.dumps({"xml": junit.read_text()}))  # the file is written and is text
    assert "history: cached.latency_us_p50" in gate["xml"]


def test_gate_history_passes_when_the_change_is_old_or_an_improvement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(4)
    old_step = [*rng.normal(170, 4, 12).tolist(), *rng.normal(200, 4, RECENT_RUNS + 6).tolist()]
    assert main(["gate", "--history", str(write_history(tmp_path / "a", old_step))]) == 0
    assert "earlier change" in capsys.readouterr().out
    faster = [*rng.normal(200, 4, 12).tolist(), *rng.normal(150, 4, 3).tolist()]
    assert main(["gate", "--history", str(write_history(tmp_path / "b", faster))]) == 0
    nudged = 170 * (1 + MIN_EFFECT / 2) + rng.normal(0, 0.5, 3)
    small = [*rng.normal(170, 0.5, 12).tolist(), *nudged.tolist()]
    assert main(["gate", "--history", str(write_history(tmp_path / "c", small))]) == 0  # sure, but small


def test_gate_history_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    not_history = tmp_path / "x.csv"
    not_history.write_text("a,b\n1,2\n")
    assert main(["gate", "--history", str(not_history)]) == 2
    assert "is not a run history" in capsys.readouterr().err
    history = write_history(tmp_path, [170.0] * 6)
    assert main(["gate", "--history", str(history), "--branch", "nope"]) == 2
    assert "no runs on branch 'nope' (it has main)" in capsys.readouterr().err
    assert main(["gate"]) == 2
    assert "nothing to gate" in capsys.readouterr().err


def test_the_otava_export_is_one_csv_per_series_with_every_cell_a_number(tmp_path: Path) -> None:
    history = write_history(tmp_path, [170.0, 171.0, 169.0])
    tests = otava_export(read_history(history), tmp_path / "otava")
    assert sorted(tests) == sorted(
        f"{strategy}-{scenario_hash(make_summary()['scenario'])}-test-cpu-3000-x8-0-gib-main"
        for strategy in make_summary()["strategies"]
    )
    config = (tmp_path / "otava" / "otava.yaml").read_text()
    assert "      latency_us_p50: {column: latency_us_p50, direction: -1}" in config
    assert "      valid: {column: valid, direction: 1}" in config
    cached = next(name for name in tests if name.startswith("cached-"))
    lines = (tmp_path / "otava" / f"{cached}.csv").read_text().splitlines()
    assert lines[0].startswith("time,commit,branch,")
    assert len(lines) == 4
    assert all(cell != "" for line in lines[1:] for cell in line.split(","))
