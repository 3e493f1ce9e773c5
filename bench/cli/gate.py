"""`lbbench gate` and `lbbench baseline save`: the performance-regression gate's command line."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.errors import UsageError
from bench.probes.meta import git_state, utc_now

if TYPE_CHECKING:
    from analysis.baseline import Measured
    from analysis.checks import Check
    from analysis.gates import GateResult


@contextmanager
def _usage_errors() -> Iterator[None]:
    """The analysis layer's GateInputError becomes the CLI's one-line UsageError."""
    from analysis.checks import GateInputError

    try:
        yield
    except GateInputError as exc:
        raise UsageError(str(exc)) from None


def add_gate_parsers(sub: Any) -> None:
    """Add the `gate` and `baseline` subcommands to the lbbench subparsers action."""
    p = sub.add_parser(
        "gate",
        help="check runs against limits and a baseline: exit 0 pass, 1 regression, 2 bad input, 3 unstable",
        description="Check runs against limits and a baseline. With --baseline and no --check or --config,"
        " the default checks of every strategy apply: valid and agree >= baseline, failures <= baseline,"
        " every other exact counter == baseline (bytes within 1%); latency p50 and p99 and client CPU"
        " per request <= baseline, by the noise rule. Checks given with --check or --config replace the"
        " defaults.",
    )
    p.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR", help="one run, or K repeats of it")
    p.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="baseline file, summary.json or run dir; alone, it gates the default checks",
    )
    p.add_argument(
        "--check",
        action="append",
        default=[],
        metavar="EXPR",
        help="e.g. 'cached.redis_commands_per_request == 1'; repeatable; replaces the default checks",
    )
    p.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="TOML file with a [gates] table; its checks replace the default checks",
    )

    p = sub.add_parser("baseline", help="save runs as a self-describing baseline")
    baseline_sub = p.add_subparsers(dest="baseline_command", required=True, parser_class=type(p))
    save = baseline_sub.add_parser("save", help="write results/baselines/NAME.json from run directories")
    save.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR", help="one run, or K repeats of it")
    save.add_argument("--name", required=True, help="file name without .json (letters, digits, . _ -)")
    save.add_argument("--dir", type=Path, help="directory (default results/baselines)")
    save.add_argument("--overwrite", action="store_true", help="replace an existing baseline of that name")


def cmd_gate(args: argparse.Namespace) -> int:
    """Exit code 0 pass, 1 regression, 3 unstable (analysis.gates); bad input raises UsageError (2)."""
    from analysis.baseline import load_reference, load_run, same_scenario
    from analysis.checks import GateConfig, parse_checks, read_gate_config
    from analysis.gate_report import gate_document, write_gate
    from analysis.gates import evaluate

    with _usage_errors():
        config = read_gate_config(args.config) if args.config else GateConfig()
        checks = parse_checks([*config.checks, *args.check])
        runs = [load_run(run_dir)[0] for run_dir in args.run_dirs]
        scenario = same_scenario(runs, "runs")
        baseline_path = args.baseline or config.baseline
        reference = load_reference(baseline_path) if baseline_path else None
        reference_runs = reference.runs if reference else []
        # Checks given replace the defaults; without checks, a baseline alone gates on the defaults.
        defaults = not checks and reference is not None
        if defaults:
            checks = _default_checks(runs, reference_runs)
        result = evaluate(checks, runs, reference_runs)
        warnings = _warnings(runs, scenario, reference_runs)
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
        )
        for run_dir in args.run_dirs:
            write_gate(run_dir, gate)
    _print_gate(gate, result, warnings)
    return result.exit_code


def _default_checks(runs: list[Measured], reference_runs: list[Measured]) -> list[Check]:
    """The metric table's default checks, announced on stderr; bad input when none applies."""
    from analysis.checks import GateInputError
    from analysis.gates import default_checks

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
    from analysis.baseline import scenario_differences

    warnings = [f"{run.label}: not valid" for run in runs if run.summary.get("valid") is False]
    if reference_runs:
        differences = scenario_differences(scenario, reference_runs[0].summary.get("scenario") or {})
        warnings += [f"scenario differs from the baseline: {'; '.join(differences)}"] if differences else []
    return warnings


def _print_gate(gate: dict[str, Any], result: GateResult, warnings: list[str]) -> None:
    """The table on stdout; warnings, each FAIL or UNSTABLE check and the tally on stderr."""
    from analysis.gate_report import gate_table
    from analysis.gates import FAIL, UNSTABLE, fmt_value

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
    print(f"lbbench gate: {result.verdict} ({tally}); gate.json written to each RUN_DIR", file=sys.stderr)


def cmd_baseline(args: argparse.Namespace) -> int:
    from analysis.baseline import BASELINES_DIR, load_run, make_baseline, write_baseline

    with _usage_errors():
        runs = [load_run(run_dir) for run_dir in args.run_dirs]
        baseline = make_baseline(args.name, runs, utc_now().isoformat(timespec="seconds"), git_state())
        path = write_baseline(baseline, args.dir or BASELINES_DIR, args.overwrite)
    invalid = [run["run_id"] for run in baseline["runs"] if run["valid"] is False]
    if invalid:
        print(f"lbbench baseline: warning: not valid: {', '.join(invalid)}", file=sys.stderr)
    print(path)
    return 0


GATE_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"gate": cmd_gate, "baseline": cmd_baseline}
