"""`lbbench gate` and `lbbench baseline save` on synthetic run directories: exit codes, files, report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from analysis.build import build_report
from analysis.gate.report import GATE_MARKER
from lbbench.main import main
from tests.unit.sample_summary import META, make_summary
from tests.unit.synthetic_run import Redis, steady_worker, write_run

CHECKS = [
    "cached.redis_commands_per_request == 1",
    "naive.redis_commands_per_request == scenario.shards",
    "naive.bytes_out_per_request == baseline +- 2%",
    "cached.bytes_out_per_request == baseline +- 2%",
    "naive.latency_us.p99 <= baseline * 1.05",
    "ratio(naive.latency_us.p50, cached.latency_us.p50) >= 3",
]


# main() installs the CLI's signal handlers; tests/unit/conftest.py gives the test process its own back.
pytestmark = pytest.mark.usefixtures("keep_signal_handlers")


def run_dir(root: Path, name: str, summary: dict[str, Any] | None = None) -> Path:
    """A run directory holding summary.json, meta.json and a report.md, as `lbbench compare` leaves it."""
    path = root / name
    path.mkdir(parents=True)
    body = summary or make_summary()
    body["run_id"] = name
    (path / "summary.json").write_text(json.dumps(body))
    meta = META | {"run_id": name, "options": {"players": 1_000_000, "rps": 2000.0, "out": str(path)}}
    (path / "meta.json").write_text(json.dumps(meta))
    (path / "report.md").write_text("# Leaderboard benchmark\n\n## Comparison\n\ntable\n")
    return path


def gate(*args: str | Path, checks: list[str] = CHECKS) -> int:
    return main(["gate", *map(str, args), *(a for c in checks for a in ("--check", c))])


def test_run_against_itself_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_dir(tmp_path, "run")
    assert gate(run, "--baseline", run) == 0
    out, err = capsys.readouterr()
    header = [cell.strip() for cell in out.splitlines()[0].strip("|").split("|")]
    assert header == ["check", "baseline", "current", "change", "verdict", "note"]
    assert "| naive.bytes_out_per_request == baseline +- 2%" in out
    assert "lbbench gate: PASS" in err
    gate_json = json.loads((run / "gate.json").read_text())
    assert gate_json["verdict"] == "PASS"
    assert gate_json["exit_code"] == 0
    assert [row["verdict"] for row in gate_json["checks"]] == ["PASS"] * 4 + ["NO CHANGE", "PASS"]
    report = (run / "report.md").read_text()
    assert report.startswith("# Leaderboard benchmark")
    assert f"{GATE_MARKER}\n## Gate\n**PASS** (exit code 0)" in report


def test_twenty_percent_fewer_baseline_bytes_fails_naming_the_metric(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = run_dir(tmp_path, "run")
    lean = make_summary()
    lean["strategies"]["naive"]["bytes_out_per_request"] *= 0.8
    baseline = run_dir(tmp_path, "baseline", lean)
    assert gate(run, "--baseline", baseline) == 1
    _, err = capsys.readouterr()
    assert "lbbench gate: FAIL: naive.bytes_out_per_request == baseline +- 2%" in err
    assert "cached.bytes_out_per_request" not in err
    rows = json.loads((run / "gate.json").read_text())["checks"]
    failed = [row for row in rows if row["verdict"] == "FAIL"]
    assert [row["check"] for row in failed] == ["naive.bytes_out_per_request == baseline +- 2%"]
    assert failed[0]["change"] == pytest.approx(0.25)


def test_malformed_check_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_dir(tmp_path, "run")
    assert gate(run, checks=["naive.latency_us.p99 <<= 5000"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("lbbench: error: malformed check 'naive.latency_us.p99 <<= 5000'")
    assert not (run / "gate.json").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{tmp}/missing-run"], "has no summary.json"),
        (["{tmp}/run", "--baseline", "{tmp}/missing.json"], "cannot read"),
        (["{tmp}/run"], "no checks"),
        (["{tmp}/run", "--check", "naive.p99 < 1"], "unknown metric naive.p99"),
        (["{tmp}/run", "--config", "{tmp}/missing.toml"], "--config: no such file: {tmp}/missing.toml"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    run_dir(tmp_path, "run")
    assert main(["gate", *(a.format(tmp=tmp_path) for a in args)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert message.format(tmp=tmp_path) in err


def test_noisy_repeats_are_unstable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = noisy_runs(tmp_path)
    baseline = run_dir(tmp_path, "baseline")
    assert gate(*runs, "--baseline", baseline) == 3
    _, err = capsys.readouterr()
    assert "lbbench gate: UNSTABLE: naive.latency_us.p99 <= baseline * 1.05" in err
    assert "lbbench gate: UNSTABLE (" in err
    for run in runs:
        assert json.loads((run / "gate.json").read_text())["runs"] == [f"repeat-{i}" for i in range(5)]


def test_checks_and_baseline_from_a_toml_gates_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = run_dir(tmp_path, "run")
    run_dir(tmp_path, "base")
    config = tmp_path / "scenario.toml"
    config.write_text(f'players = 1\n\n[gates]\nbaseline = "base"\ncheck = {json.dumps(CHECKS)}\n')
    assert main(["gate", str(run), "--config", str(config)]) == 0
    rows = json.loads((run / "gate.json").read_text())["checks"]
    assert [row["check"] for row in rows] == CHECKS
    # A flag given on the command line replaces the file's list, as every flag overrides the file.
    assert main(["gate", str(run), "--config", str(config), "--check", "cached.nodes_per_request == 2"]) == 1
    rows = json.loads((run / "gate.json").read_text())["checks"]
    assert [row["check"] for row in rows] == ["cached.nodes_per_request == 2"]
    assert rows[-1]["verdict"] == "FAIL"


def test_gate_section_is_replaced_not_stacked(tmp_path: Path) -> None:
    run = run_dir(tmp_path, "run")
    assert gate(run, checks=["cached.redis_commands_per_request == 1"]) == 0
    assert gate(run, checks=["cached.redis_commands_per_request == 2"]) == 1
    report = (run / "report.md").read_text()
    assert report.count("## Gate") == 1
    assert "**FAIL** (exit code 1)" in report
    # The page says it too: at the top, and as the report's Gate section.
    page = (run / "report.html").read_text()
    assert '<span class="badge fails">gate FAIL</span>' in page
    assert "failed: cached.redis_commands_per_request == 2" in page
    assert page.count('<section id="gate">') == 1


def test_rebuilt_report_keeps_the_gate_section(tmp_path: Path) -> None:
    workers = [steady_worker("w0", 5, 100, latency_us=3000)]
    run = write_run(tmp_path / "run", {"naive": (workers, Redis(5_000, 10_000_000, 300_000), {})})
    build_report(run)
    assert gate(run, checks=["naive.redis_commands_per_request == 10"]) == 0
    build_report(run)
    report = (run / "report.md").read_text()
    assert "## Comparison" in report
    assert "| naive.redis_commands_per_request == 10" in report
    assert report.count("## Gate") == 1


def test_baseline_save_is_self_describing_and_gates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = [run_dir(tmp_path, f"repeat-{i}") for i in range(3)]
    out = tmp_path / "baselines"
    args = ["baseline", "save", *map(str, runs), "--name", "ci-smoke", "--dir", str(out)]
    assert main(args) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path == out / "ci-smoke.json"
    baseline = json.loads(path.read_text())
    assert baseline["baseline_version"] == 1
    assert baseline["git"] == META["git"]
    assert baseline["machine"] == META["machine"]
    assert baseline["versions"] == META["versions"]
    assert baseline["scenario"]["shards"] == 10
    assert baseline["options"] == {"players": 1_000_000, "rps": 2000.0}
    assert set(baseline["saved_from"]) == {"commit", "dirty", "branch"}
    assert [r["run_id"] for r in baseline["runs"]] == ["repeat-0", "repeat-1", "repeat-2"]
    assert baseline["runs"][0]["strategies"]["naive"]["bytes_out_per_request"] == 42_500.0
    assert main(args) == 2, "an existing baseline is kept without --overwrite"
    assert main([*args, "--overwrite"]) == 0
    assert gate(runs[0], "--baseline", path) == 0
    rows = json.loads((runs[0] / "gate.json").read_text())["checks"]
    assert rows[4]["baseline_samples"] == [8000.0] * 3


def test_baseline_save_refuses_mixed_scenarios_and_bad_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = make_summary()
    other["scenario"]["players"] = 50_000
    runs = [run_dir(tmp_path, "a"), run_dir(tmp_path, "b", other)]
    assert main(["baseline", "save", *map(str, runs), "--name", "x", "--dir", str(tmp_path)]) == 2
    assert "differ in scenario.players" in capsys.readouterr().err
    assert main(["baseline", "save", str(runs[0]), "--name", "../up", "--dir", str(tmp_path)]) == 2
    assert "bad baseline name" in capsys.readouterr().err


def test_exit_code_reaches_the_shell(tmp_path: Path) -> None:
    run = run_dir(tmp_path, "run")
    check = ["--check", "cached.redis_commands_per_request == 2"]
    result = subprocess.run(
        [sys.executable, "-m", "lbbench", "gate", str(run), *check],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr


def noisy_runs(tmp_path: Path) -> list[Path]:
    """Five repeats whose naive p99 is too noisy to decide against the baseline: UNSTABLE."""
    runs = []
    for i, p99_us in enumerate([6000, 11000, 7500, 14000, 8000]):
        summary = make_summary()
        summary["strategies"]["naive"]["latency_us"]["p99"] = p99_us
        runs.append(run_dir(tmp_path, f"repeat-{i}", summary))
    return runs


@pytest.mark.parametrize(("policy", "code", "element"), [("warn", 0, "skipped"), ("fail", 1, "failure")])
def test_unstable_policy_sets_the_exit_code_and_the_junit_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], policy: str, code: int, element: str
) -> None:
    from junitparser import Failure, JUnitXml, Skipped

    runs = noisy_runs(tmp_path)
    junit = tmp_path / "ci" / "gate.xml"
    baseline = run_dir(tmp_path, "baseline")
    assert gate(*runs, "--baseline", baseline, "--unstable", policy, "--junit-xml", junit) == code
    assert f"exit {code}" in capsys.readouterr().err
    suite = next(iter(JUnitXml.fromfile(str(junit))))
    assert (suite.tests, suite.failures + suite.errors + suite.skipped) == (len(CHECKS), 1)
    cases = {case.name: case for case in suite}
    unstable = cases["naive.latency_us.p99 <= baseline * 1.05"]
    kind = {"skipped": Skipped, "failure": Failure}[element]
    assert [type(result) for result in unstable.result] == [kind]
    assert unstable.result[0].message.startswith("UNSTABLE: current")
    assert all(not case.result for name, case in cases.items() if case is not unstable)


def test_junit_and_github_outputs_name_the_failing_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from junitparser import Failure, JUnitXml

    run = run_dir(tmp_path, "run")
    lean = make_summary()
    lean["strategies"]["naive"]["bytes_out_per_request"] *= 0.8
    baseline = run_dir(tmp_path, "baseline", lean)
    summary_md = tmp_path / "step-summary.md"
    summary_md.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary_md))
    junit = tmp_path / "gate.xml"
    assert gate(run, "--baseline", baseline, "--github", "--junit-xml", junit) == 1
    out = capsys.readouterr().out
    # Workflow commands on stdout: the failing check as an error, its text escaped as GitHub requires.
    errors = [line for line in out.splitlines() if line.startswith("::error")]
    assert errors == [
        next(line for line in errors if "naive.bytes_out_per_request == baseline +- 2%" in line)
    ]
    assert errors[0].startswith("::error title=lbbench gate FAIL::naive.bytes_out_per_request")
    written = summary_md.read_text()
    assert written.startswith("earlier step\n## lbbench gate: FAIL (exit 1)")  # appended, not replaced
    assert "| naive.bytes_out_per_request == baseline +- 2%" in written
    suite = next(iter(JUnitXml.fromfile(str(junit))))
    failed = [case.name for case in suite if any(isinstance(r, Failure) for r in case.result)]
    assert failed == ["naive.bytes_out_per_request == baseline +- 2%"]
    assert {case.classname for case in suite} == {"lbbench.gate.naive", "lbbench.gate.cached"}


def test_no_write_leaves_the_run_directories_untouched(tmp_path: Path) -> None:
    run = run_dir(tmp_path, "run")
    before = {path.name: path.read_bytes() for path in run.iterdir()}
    assert gate(run, "--baseline", run, "--no-write") == 0
    assert {path.name: path.read_bytes() for path in run.iterdir()} == before
