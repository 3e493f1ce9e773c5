"""`lbbench history append`: add runs to a history file that `lbbench gate --history` reads."""

from __future__ import annotations

import argparse

from bench.console import status
from bench.errors import EXIT_OK, UsageError


def cmd_history_append(args: argparse.Namespace) -> int:
    from analysis.gate.baseline import load_run
    from analysis.gate.checks import GateInputError
    from analysis.gate.history import append_history, history_rows

    try:
        rows = []
        for run_dir in args.run_dir:
            measured, meta = load_run(run_dir)
            rows += history_rows(measured.summary, meta, args.branch)
        added = append_history(args.to, rows)
    except GateInputError as exc:
        raise UsageError(str(exc)) from None
    skipped = len(rows) - added
    note = f"; {skipped} already there" if skipped else ""
    status(f"history: {added} row(s) added to {args.to} from {len(args.run_dir)} run(s){note}")
    return EXIT_OK


def cmd_history_otava(args: argparse.Namespace) -> int:
    from analysis.gate.checks import GateInputError
    from analysis.gate.history import otava_export, read_history

    try:
        tests = otava_export(read_history(args.history), args.out)
    except GateInputError as exc:
        raise UsageError(str(exc)) from None
    status(
        f"history: {len(tests)} series in {args.out}; from there: otava analyze --config-file otava.yaml TEST"
    )
    for name in tests:
        print(name)
    return EXIT_OK
