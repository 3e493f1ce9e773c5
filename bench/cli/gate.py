"""`lbbench gate` and `lbbench baseline save`: the performance-regression gate's command line."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.errors import UsageError
from bench.probes.meta import git_state, utc_now


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
    )
    p.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR", help="one run, or K repeats of it")
    p.add_argument("--baseline", type=Path, metavar="FILE", help="baseline file, summary.json or run dir")
    p.add_argument(
        "--check",
        action="append",
        default=[],
        metavar="EXPR",
        help="e.g. 'cached.redis_commands_per_request == 1'; repeatable",
    )
    p.add_argument("--config", type=Path, metavar="FILE", help="TOML file with a [gates] table")

    p = sub.add_parser("baseline", help="save runs as a self-describing baseline")
    baseline_sub = p.add_subparsers(dest="baseline_command", required=True, parser_class=type(p))
    save = baseline_sub.add_parser("save", help="write results/baselines/NAME.json from run directories")
    save.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR", help="one run, or K repeats of it")
    save.add_argument("--name", required=True, help="file name without .json (letters, digits, . _ -)")
    save.add_argument("--dir", type=Path, help="directory (default results/baselines)")
    save.add_argument("--overwrite", action="store_true", help="replace an existing baseline of that name")


def cmd_gate(args: argparse.Namespace) -> int:
    """Exit code 0 pass, 1 regression, 3 unstable (analysis.gates); bad input raises UsageError (2)."""
    from analysis.baseline import load_reference, load_run, same_scenario, scenario_differences
    from analysis.checks import GateConfig, parse_checks, read_gate_config
    from analysis.gate_report import gate_document, gate_table, write_gate
    from analysis.gates import FAIL, UNSTABLE, evaluate, fmt_value

    with _usage_errors():
        config = read_gate_config(args.config) if args.config else GateConfig()
        checks = parse_checks([*config.checks, *args.check])
        runs = [load_run(run_dir)[0] for run_dir in args.run_dirs]
        scenario = same_scenario(runs, "runs")
        baseline_path = args.baseline or config.baseline
        reference = load_reference(baseline_path) if baseline_path else None
        reference_runs = reference.runs if reference else []
        result = evaluate(checks, runs, reference_runs)
        warnings = [f"{run.label}: not valid" for run in runs if run.summary.get("valid") is False]
        if reference:
            differences = scenario_differences(scenario, reference_runs[0].summary.get("scenario") or {})
            warnings += (
                [f"scenario differs from the baseline: {'; '.join(differences)}"] if differences else []
            )
        gate = gate_document(
            result,
            runs,
            reference.description if reference else None,
            utc_now().isoformat(timespec="seconds"),
            warnings,
        )
        for run_dir in args.run_dirs:
            write_gate(run_dir, gate)
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
    return result.exit_code


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
