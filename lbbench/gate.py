"""`lbbench gate` and `lbbench baseline save`: the performance-regression gate's command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.errors import UsageError
from bench.probes.meta import git_state, utc_now
from runfiles import write_text_whole

if TYPE_CHECKING:
    from analysis.gate.baseline import Measured
    from analysis.gate.checks import Check
    from analysis.gate.evaluate import CheckResult, GateResult

#: Where GitHub Actions reads a step's summary Markdown from.
STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


@contextmanager
def _usage_errors() -> Iterator[None]:
    """The analysis layer's GateInputError becomes the CLI's one-line UsageError."""
    from analysis.gate.checks import GateInputError

    try:
        yield
    except GateInputError as exc:
        raise UsageError(str(exc)) from None


GATE_DESCRIPTION = (
    "Check runs against limits and a baseline. With --baseline and no --check (nor [gates] check in a"
    " --config file), the default checks of every strategy apply: valid and agree >= baseline, failures <="
    " baseline, every other exact counter == baseline (bytes within 1%); latency p50 and p99 and client"
    " CPU per request <= baseline, by the noise rule. Checks given replace the defaults."
)


def cmd_gate(args: argparse.Namespace) -> int:
    """Exit code 0 pass, 1 regression, 3 unstable (analysis.gates); bad input raises UsageError (2)."""
    from analysis.gate.baseline import load_reference, load_run, same_scenario
    from analysis.gate.checks import GateInputError, parse_checks
    from analysis.gate.evaluate import GateResult, evaluate
    from analysis.gate.report import gate_document, write_gate

    with _usage_errors():
        if not args.run_dir and args.history is None:
            raise GateInputError("nothing to gate: give run directories, --history FILE, or both")
        checks = parse_checks(list(args.check))
        runs = [load_run(run_dir)[0] for run_dir in args.run_dir]
        reference = load_reference(args.baseline) if args.baseline else None
        reference_runs = reference.runs if reference else []
        # Checks given replace the defaults; without checks, a baseline alone gates on the defaults.
        defaults = bool(runs) and not checks and reference is not None
        if defaults:
            checks = _default_checks(runs, reference_runs)
        result = evaluate(checks, runs, reference_runs) if runs else GateResult([])
        warnings = _warnings(runs, same_scenario(runs, "runs"), reference_runs) if runs else []
        if args.history is not None:
            result = GateResult([*result.results, *_history_rows(args.history, args.branch)])
        if defaults:
            gated = {check.text.split(".", 1)[0] for check in checks}
            strategies = runs[0].summary.get("strategies") or {}
            warnings += [
                f"{name}: not gated (not in the baseline)" for name in strategies if name not in gated
            ]
        gate = gate_document(
            result,
            runs,
            reference.description if reference else None,
            utc_now().isoformat(timespec="seconds"),
            warnings,
            default_checks=defaults,
            unstable=args.unstable,
        )
        if args.write:
            from analysis.build import write_report_html

            for run_dir in args.run_dir:
                write_gate(run_dir, gate)
                write_report_html(run_dir)  # the page shows the verdict as report.md does
    written = "gate.json written to each RUN_DIR" if args.write and args.run_dir else ""
    return finish_gate(gate, result, args, warnings, written)


def finish_gate(
    gate: dict[str, Any], result: GateResult, args: argparse.Namespace, warnings: list[str], written: str = ""
) -> int:
    """The outputs every gate gives (the table, JUnit, GitHub's) and its exit code."""
    if args.junit_xml:
        _write_junit(args.junit_xml, gate, gate["unstable"])
    _print_gate(gate, result, warnings, written)
    if args.github:
        _github(gate, gate["unstable"])
    return int(gate["exit_code"])


def _history_rows(path: Path, branch: str | None) -> list[CheckResult]:
    """The history's change points: the table on stdout, a row per series and metric for the gate."""
    from analysis.gate import history

    branch, on_branch = history.on_branch(history.read_history(path), branch)
    changes = history.series_changes(on_branch)
    rule = history.SIGNIFICANCE
    print(f"Change points in {path}, branch {branch or '(none)'}, {len(on_branch)} rows: {rule}.")
    print(history.history_table(changes) if changes else "No change points.")
    print()
    return history.history_results(on_branch, changes)


def _write_junit(path: Path, gate: dict[str, Any], unstable: str) -> None:
    """The JUnit file, written whole (a temporary file renamed) so CI never reads half of one."""
    from analysis.gate.junit import junit_xml

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_whole(path, junit_xml(gate, unstable))
    except OSError as exc:
        raise UsageError(f"--junit-xml {path}: {exc.strerror}") from None


def _github(gate: dict[str, Any], unstable: str) -> None:
    """Annotations on stdout; the step summary appended to $GITHUB_STEP_SUMMARY (stdout without it)."""
    from analysis.gate.github import step_summary, workflow_commands

    for line in workflow_commands(gate, unstable):
        print(line)
    summary = step_summary(gate)
    target = os.environ.get(STEP_SUMMARY_ENV)
    if not target:
        print(f"lbbench gate: ${STEP_SUMMARY_ENV} is not set: the step summary follows", file=sys.stderr)
        print(summary)
        return
    try:
        with Path(target).open("a") as out:
            out.write(summary)
    except OSError as exc:
        raise UsageError(f"${STEP_SUMMARY_ENV} {target}: {exc.strerror}") from None


def _default_checks(runs: list[Measured], reference_runs: list[Measured]) -> list[Check]:
    """The metric table's default checks, announced on stderr; bad input when none applies."""
    from analysis.gate.checks import GateInputError
    from analysis.gate.evaluate import default_checks

    checks = default_checks(runs, reference_runs)
    if not checks:
        raise GateInputError("no default checks: the baseline has no metric of the runs' strategies")
    exact = sum(check.exact for check in checks)
    print(
        f"lbbench gate: no --check or --config: using the metric table's {len(checks)} default checks"
        f" ({exact} exact, {len(checks) - exact} timing) against the baseline",
        file=sys.stderr,
    )
    return checks


def _warnings(runs: list[Measured], scenario: dict[str, Any], reference_runs: list[Measured]) -> list[str]:
    """Not-valid runs, and a scenario that differs from the baseline's."""
    from analysis.gate.baseline import scenario_differences

    warnings = [f"{run.label}: not valid" for run in runs if run.summary.get("valid") is False]
    if reference_runs:
        differences = scenario_differences(scenario, reference_runs[0].summary.get("scenario") or {})
        warnings += [f"scenario differs from the baseline: {'; '.join(differences)}"] if differences else []
    return warnings


def _print_gate(gate: dict[str, Any], result: GateResult, warnings: list[str], written: str) -> None:
    """The table on stdout; warnings, each FAIL or UNSTABLE check and the tally on stderr."""
    from analysis.gate.evaluate import FAIL, UNSTABLE, fmt_value
    from analysis.gate.report import gate_table

    print(gate_table(gate))
    for warning in warnings:
        print(f"lbbench gate: warning: {warning}", file=sys.stderr)
    for row in result.results:
        if row.verdict in (FAIL, UNSTABLE):
            print(
                f"lbbench gate: {row.verdict}: {row.check} — current {fmt_value(row.current)}; {row.note}",
                file=sys.stderr,
            )
    counts = Counter(row.verdict for row in result.results)
    tally = ", ".join(f"{count} {verdict}" for verdict, count in counts.items())
    where = f"; {written}" if written else ""
    print(f"lbbench gate: {result.verdict} ({tally}), exit {gate['exit_code']}{where}", file=sys.stderr)


def cmd_baseline(args: argparse.Namespace) -> int:
    from analysis.gate.baseline import BASELINES_DIR, load_run, make_baseline, write_baseline

    with _usage_errors():
        runs = [load_run(run_dir) for run_dir in args.run_dir]
        baseline = make_baseline(args.name, runs, utc_now().isoformat(timespec="seconds"), git_state())
        path = write_baseline(baseline, args.dir or BASELINES_DIR, args.overwrite)
    invalid = [run["run_id"] for run in baseline["runs"] if run["valid"] is False]
    if invalid:
        print(f"lbbench baseline: warning: not valid: {', '.join(invalid)}", file=sys.stderr)
    print(path)
    return 0
