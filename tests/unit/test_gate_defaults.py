"""`lbbench gate RUN --baseline FILE` without checks: the metric table's default check set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from analysis import metrics
from analysis.gate.baseline import Measured
from analysis.gate.checks import Metric
from analysis.gate.evaluate import default_checks
from analysis.gate.report import GATE_MARKER
from lbbench.main import main
from tests.unit.sample_summary import make_summary
from tests.unit.test_gate_cli import run_dir

# main() installs the CLI's signal handlers; tests/unit/conftest.py gives the test process its own back.
pytestmark = pytest.mark.usefixtures("keep_signal_handlers")


def gate_rows(run: Path) -> dict[str, dict[str, Any]]:
    """gate.json's rows by check text."""
    return {row["check"]: row for row in json.loads((run / "gate.json").read_text())["checks"]}


def with_naive(**overrides: Any) -> dict[str, Any]:
    """A sample summary whose naive entry has these overrides (nested dicts merged one level deep)."""
    summary = make_summary()
    naive = summary["strategies"]["naive"]
    for key, value in overrides.items():
        naive[key] = naive[key] | value if isinstance(value, dict) else value
    return summary


def test_default_set_covers_every_exact_metric_of_every_strategy() -> None:
    summary = make_summary()
    checks = default_checks([Measured("run", summary)], [Measured("base", make_summary())])
    operands = {str(check.operand) for check in checks}
    expected = {
        f"{name}.{'.'.join(row.path)}"
        for name, entry in summary["strategies"].items()
        for row in metrics.METRICS
        if row.kind == metrics.EXACT and row.path and metrics.value_at(entry, row.path) is not None
    }
    assert len(expected) > 20
    assert expected <= operands
    assert all(check.exact for check in checks if str(check.operand) in expected)
    for name in ("naive", "cached"):
        for timing in ("latency_us.p50", "latency_us.p99", "client_cpu_us_per_request"):
            assert f"{name}.{timing} <= baseline" in [check.text for check in checks]
    assert "cached.refresher.commands_per_refresh == baseline" in [check.text for check in checks]
    assert not [op for op in operands if op.startswith("naive.refresher")], "null sections are skipped"


def test_strategies_the_baseline_lacks_are_left_out() -> None:
    baseline = make_summary()
    del baseline["strategies"]["cached"]
    checks = default_checks([Measured("run", make_summary())], [Measured("base", baseline)])
    assert checks
    assert {check.operand.parts[0] for check in checks if isinstance(check.operand, Metric)} == {"naive"}


def test_a_run_against_itself_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_dir(tmp_path, "run")
    assert main(["gate", str(run), "--baseline", str(run)]) == 0
    out, err = capsys.readouterr()
    assert "| naive.redis_commands_per_request == baseline " in out
    assert "| cached.bytes_out_per_request == baseline +- 1% " in out
    rows = gate_rows(run)
    exact = sum(row["kind"] == "exact" for row in rows.values())
    assert f"default checks ({exact} exact, {len(rows) - exact} timing)" in err
    assert {row["verdict"] for row in rows.values()} == {"PASS", "NO CHANGE"}
    assert rows["naive.latency_us.p99 <= baseline"]["verdict"] == "NO CHANGE"
    assert json.loads((run / "gate.json").read_text())["default_checks"] is True
    gate_section = (run / "report.md").read_text().split(GATE_MARKER, 1)[1]
    assert "No checks were given, so these are the metric table's defaults" in gate_section


def test_an_exact_counter_that_differs_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = run_dir(tmp_path, "baseline")
    run = run_dir(tmp_path, "run", with_naive(redis_commands_per_request=11.0))
    assert main(["gate", str(run), "--baseline", str(baseline)]) == 1
    err = capsys.readouterr().err
    assert "lbbench gate: FAIL: naive.redis_commands_per_request == baseline — current 11" in err
    failed = [check for check, row in gate_rows(run).items() if row["verdict"] == "FAIL"]
    assert failed == ["naive.redis_commands_per_request == baseline"]


@pytest.mark.parametrize(
    ("p99_us", "verdict", "exit_code"),
    [(8240.0, "NO CHANGE", 0), (9600.0, "FAIL", 1), (6400.0, "PASS", 0)],
    ids=["+3%-inside-the-band", "+20%-beyond-it", "-20%-faster"],
)
def test_latency_is_decided_by_the_noise_rule(
    tmp_path: Path, p99_us: float, verdict: str, exit_code: int
) -> None:
    baseline = run_dir(tmp_path, "baseline")  # naive p99 8,000 µs
    run = run_dir(tmp_path, "run", with_naive(latency_us={"p99": p99_us}))
    assert main(["gate", str(run), "--baseline", str(baseline)]) == exit_code
    row = gate_rows(run)["naive.latency_us.p99 <= baseline"]
    assert (row["kind"], row["verdict"]) == ("timing", verdict)


@pytest.mark.parametrize(
    ("base_valid", "run_valid", "exit_code"),
    [(False, True, 0), (True, False, 1)],
    ids=["became-valid", "lost"],
)
def test_validity_only_fails_when_lost(
    tmp_path: Path, base_valid: bool, run_valid: bool, exit_code: int
) -> None:
    baseline = run_dir(tmp_path, "baseline", with_naive(valid=base_valid))
    run = run_dir(tmp_path, "run", with_naive(valid=run_valid))
    assert main(["gate", str(run), "--baseline", str(baseline)]) == exit_code
    assert gate_rows(run)["naive.valid >= baseline"]["kind"] == "exact"


def test_without_a_baseline_the_error_names_all_three_ways(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = run_dir(tmp_path, "run")
    assert main(["gate", str(run)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "no checks" in err
    for way in ("--check", "--config", "--baseline"):
        assert way in err
    assert not (run / "gate.json").exists()


def test_given_checks_replace_the_defaults(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_dir(tmp_path, "run")
    check = "naive.bytes_out_per_request == baseline"
    assert main(["gate", str(run), "--baseline", str(run), "--check", check]) == 0
    assert list(gate_rows(run)) == [check]
    assert json.loads((run / "gate.json").read_text())["default_checks"] is False
    assert "default checks" not in capsys.readouterr().err


def test_a_strategy_missing_from_the_baseline_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lean = make_summary()
    del lean["strategies"]["cached"]
    baseline = run_dir(tmp_path, "baseline", lean)
    run = run_dir(tmp_path, "run")
    assert main(["gate", str(run), "--baseline", str(baseline)]) == 0
    assert "lbbench gate: warning: cached: not gated (not in the baseline)" in capsys.readouterr().err
