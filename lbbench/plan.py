"""`lbbench plan`: size the user's tier from runs measured here, and check the model on held-out runs.

Without ``--from`` it measures first: three short compares scaled down from the target
(bench/run/planruns.py), kept under ``<out>/runs/``. ``--validate`` fits on small runs, measures points
the fit did not see and writes the table of predicted against measured (docs/planning.md).
"""

from __future__ import annotations

import argparse
import functools
import json
import re
from dataclasses import replace
from pathlib import Path

from analysis.figures.plan import Measured, make_plan, measured_run, plan_json
from analysis.figures.target import SEED, Target
from analysis.figures.validation import read_validated, validate, validation_json
from analysis.render.plan import (
    PLAN_JSON,
    PLAN_MD,
    PLAN_PNG,
    VALIDATION_JSON,
    VALIDATION_MD,
    plot_plan,
    render_plan,
    render_validation,
)
from bench.console import status
from bench.declare import Derived, Flag, Option, PathArg
from bench.errors import EXIT_FAILED, EXIT_OK, UsageError
from bench.probes.meta import utc_now
from bench.run.planruns import FIT, HELD_OUT, REPEATS, Scaled, measurement, run_all
from bench.seeding.replysize import reply_sizes
from bench.strategies import REGISTRY
from lbbench.options import compare_options
from lbbench.targetspec import TargetKind, format_target
from runfiles import RunFiles

PLAN = frozenset({"plan"})
#: The committed verdicts of the last validation, read by default (in a checkout; an installed package
#: has no results/ and plans unmarked unless given --validation).
REFERENCE_VALIDATION = (
    Path(__file__).resolve().parents[1] / "results/reference/plan-validation" / VALIDATION_JSON
)
#: Populations from which working out the reply sizes takes long enough to say so.
LONG_SIZES_PLAYERS = 10_000_000
#: Held-out points a validation must pass in full (the issue's bar: at least three).
MIN_POINTS_PASSING = 3

TARGET = Option(
    TargetKind(),
    "the tier to size, key=value pairs, e.g. players=20M,shards=30,rps=50k,slo_p99_ms=5,max_staleness=30s"
    " (docs/planning.md lists the keys); a scenario file's [target] table",
    commands=PLAN,
    default=Derived("the seed's: 100M players, 10 shards, 10,000 reads/s, p99 10 ms, 60 s stale"),
    name="target",
)
FROM = Option(
    PathArg("dir"),
    "plan from these run directories instead of measuring (with --validate: a validation's directory)",
    commands=PLAN,
    name="from",
    many=True,
    scenario=False,
    metavar="RUN_DIR",
)
VALIDATE = Option(
    Flag(),
    "fit on small runs, measure held-out points the fit did not see, and write the table (about 20 min)",
    commands=PLAN,
    default=False,
    name="validate",
)
VALIDATION = Option(
    PathArg("file"),
    "the validation.json whose verdicts mark the plan's figures",
    commands=PLAN,
    default=Derived("results/reference/plan-validation/validation.json of this checkout"),
    name="validation",
    metavar="FILE",
)
PLAN_OUT = Option(
    PathArg("out"),
    "where the plan, and the runs it measures, are written",
    commands=PLAN,
    default=Derived("results/<time>-plan"),
    name="out",
    scenario=False,
    metavar="DIR",
)
PLAN_OPTIONS = (TARGET, FROM, VALIDATE, VALIDATION, PLAN_OUT)


@functools.cache  # every strategy's projection asks for the same sizes; big tiers take seconds each
def _reply_bytes(players: int, shards: int, seed: int, n: int) -> tuple[int, int]:
    """The seeded data's reply sizes (the plan scales bytes per request by them); slow for big tiers."""
    if players >= LONG_SIZES_PLAYERS:
        status(
            f"plan: reply sizes of the seeded data at {players:,} players (about {players // 5_000_000} s)"
        )
    sizes = reply_sizes(players, shards, seed, n)
    return sizes.shards_top_n, sizes.global_top_n


def _measure(runs: list[Scaled], out: Path, args: argparse.Namespace) -> list[Path]:
    """Make ``runs`` under ``out`` (each committed as it ends), then build each one's summary."""
    from analysis.build import build_report
    from bench.run.compare import RunDir, compare

    target = RunDir(out)
    partial = target.create()
    try:
        made = run_all(runs, compare_options(args), partial, compare, status)
    except BaseException:
        target.discard()
        raise
    final = target.commit()
    made = [final / path.relative_to(partial) for path in made]
    for run_dir in made:
        build_report(run_dir)
    return made


def _run_dirs(paths: tuple[Path, ...]) -> list[Measured]:
    for path in paths:
        if not RunFiles(path).summary.is_file():
            raise UsageError(f"--from {path}: not a run directory (no summary.json)")
    return [measured_run(path) for path in paths]


def cmd_plan(args: argparse.Namespace) -> int:
    out: Path = args.out or Path("results") / f"{utc_now():%Y%m%dT%H%M%SZ}-plan"
    if args.validate:
        return _validate(args, out)
    target: Target = args.target or SEED
    given: tuple[Path, ...] = getattr(args, FROM.dest)
    if given:
        runs = _run_dirs(given)
        out.mkdir(parents=True, exist_ok=True)
    else:
        scaled = measurement(target.shards, target.players, tuple(REGISTRY))
        status(f"plan: measuring on this machine, {len(scaled)} short runs, under {out}/runs")
        runs = [measured_run(path) for path in _measure(scaled, out / "runs", args)]
    source = args.validation or (REFERENCE_VALIDATION if REFERENCE_VALIDATION.is_file() else None)
    validated = read_validated(source) if source else None
    plan = make_plan(runs, target, _reply_bytes)
    (out / PLAN_JSON).write_text(json.dumps(plan_json(plan), indent=2) + "\n")
    plot_plan(plan, out / PLAN_PNG)
    text = render_plan(plan, validated, str(source) if source else None)
    (out / PLAN_MD).write_text(text)
    print(text)
    status(f"plan for {format_target(target) or 'the seed'}: {out / PLAN_MD}, {PLAN_JSON}, {PLAN_PNG}")
    return EXIT_OK


def _validate(args: argparse.Namespace, out: Path) -> int:
    given: tuple[Path, ...] = getattr(args, FROM.dest)
    if given:
        if len(given) != 1:
            raise UsageError("--validate --from takes one validation directory")
        out = given[0]
        fit_dirs = sorted((out / "fit").glob("*/"))
        held_dirs = sorted((out / "held-out").glob("*/"))
        if not fit_dirs or not held_dirs:
            raise UsageError(f"--from {out}: not a validation directory (no fit/ and held-out/ runs)")
    else:
        status(
            f"plan --validate: {len(FIT)} fit runs, {len(HELD_OUT)} held-out points x {REPEATS}, under {out}"
        )
        runs = [replace(run, label=f"fit/{run.label}") for run in FIT]
        runs += [
            replace(point.repeat(i), label=f"held-out/{point.repeat(i).label}")
            for i in range(1, REPEATS + 1)
            for point in HELD_OUT
        ]
        made = _measure(runs, out, args)
        fit_dirs = made[: len(FIT)]
        held_dirs = made[len(FIT) :]
    held: dict[str, list[Measured]] = {}
    for path in held_dirs:
        held.setdefault(re.sub(r"-r\d+$", "", path.name), []).append(measured_run(path))
    validation = validate([measured_run(path) for path in fit_dirs], held, _reply_bytes)
    commands = ["lbbench plan --validate", "# which runs, each a compare of its own:"]
    commands += [run.command() + f"  # {run.label}" for run in (*FIT, *HELD_OUT)]
    (out / VALIDATION_JSON).write_text(json.dumps(validation_json(validation, out), indent=2) + "\n")
    text = render_validation(validation, commands)
    (out / VALIDATION_MD).write_text(text)
    print(text)
    passing = len(validation.points_passing)
    status(f"validation: {passing} of {len(held)} held-out points within every bound; {out / VALIDATION_MD}")
    return EXIT_OK if passing >= MIN_POINTS_PASSING else EXIT_FAILED
