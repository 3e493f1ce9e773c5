"""Every option `lbbench` takes: the options objects' declared fields, and those only one command reads.

The options of a run (topology, data, load) are declared on :class:`TopologyOptions` and
:class:`CompareOptions`, sweep's and netcheck's own beside their runs; the few below are read by one
command's code alone. ``OPTIONS`` is the registry the parser, scenario files and docs are built from.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from bench.declare import (
    Choice,
    Derived,
    Duration,
    Flag,
    Integer,
    Option,
    PathArg,
    Text,
    declared_options,
    from_values,
)
from bench.images import IMAGE_TARGETS
from bench.probes.capacity import DEFAULT_BUDGET_S
from bench.run.netcheck import PROFILES, RECHECK
from bench.run.options import CompareOptions
from bench.run.sweep import PARAM, REPEATS, VALUES
from bench.strategies import StrategyName
from bench.topology import TopologyOptions

STRATEGY = Option(
    StrategyName(),
    "the strategy that answers (top), or whose cache is written (refresh)",
    commands=frozenset({"top", "refresh"}),
    default="naive",
    name="strategy",
)
N = Option(Integer(min=1), "entries to print", commands=frozenset({"top"}), default=100, name="n")
JSON = Option(
    Flag(),
    'print JSON: [{"player": ..., "score": ...}, ...]',
    commands=frozenset({"top"}),
    default=False,
    name="json",
)
BUDGET = Option(
    Duration(positive=True),
    "load in all, split over the three read commands",
    commands=frozenset({"capacity"}),
    default=DEFAULT_BUDGET_S,
    name="budget",
)
REPORT_RUN = Option(
    PathArg("any"),
    "a run directory (or a sweep's)",
    commands=frozenset({"report"}),
    name="run-dir",
    positional=True,
    required=True,
    scenario=False,
)

GATE = frozenset({"gate"})
AB = frozenset({"ab"})
HISTORY_APPEND = frozenset({"history append"})
GATED_RUNS = Option(
    PathArg("any"),
    "one run, or K repeats of it (none with --history alone)",
    commands=GATE,
    name="run-dir",
    positional=True,
    many=True,
    scenario=False,
)
SAVED_RUNS = Option(
    PathArg("any"),
    "one run, or K repeats of it",
    commands=frozenset({"baseline save"}),
    name="run-dir",
    positional=True,
    many=True,
    required=True,
    scenario=False,
)
HISTORY_RUNS = Option(
    PathArg("dir"),
    "run directories to add, one row per strategy",
    commands=HISTORY_APPEND,
    name="run-dir",
    positional=True,
    many=True,
    required=True,
    scenario=False,
)
HISTORY_TO = Option(
    PathArg("any"),
    "the history CSV (created if missing; runs already in it are skipped)",
    commands=HISTORY_APPEND,
    name="to",
    required=True,
    metavar="FILE",
)
HISTORY_OTAVA = frozenset({"history otava"})
HISTORY_FILE = Option(
    PathArg("file"),
    "the history CSV (lbbench history append)",
    commands=HISTORY_OTAVA,
    name="history",
    positional=True,
    required=True,
    scenario=False,
)
OTAVA_OUT = Option(
    PathArg("out"),
    "the directory for one CSV per series and otava.yaml",
    commands=HISTORY_OTAVA,
    name="out",
    required=True,
    scenario=False,
    metavar="DIR",
)
HISTORY = Option(
    PathArg("file"),
    "also gate on change points in this run history (lbbench history append): exit 1 on a regression"
    " in its newest runs",
    commands=GATE,
    name="history",
    metavar="FILE",
)
BRANCH = Option(
    Text(),
    "the branch: the runs' rows are labelled with it (append), the history's series read on it (gate)",
    commands=GATE | HISTORY_APPEND,
    default=Derived("the run's git branch (append); the newest row's (gate)"),
    name="branch",
    metavar="NAME",
)
BASELINE = Option(
    PathArg("any"),
    "baseline file, summary.json or run dir; alone, it gates the default checks",
    commands=GATE,
    name="baseline",
    metavar="FILE",
)
CHECK = Option(
    Text(),
    "e.g. 'cached.redis_commands_per_request == 1'; repeatable; replaces the default checks",
    commands=GATE,
    name="check",
    repeat=True,
    metavar="EXPR",
)
UNSTABLE = Option(
    Choice(("exit-3", "warn", "fail")),
    "what a gate whose worst check is UNSTABLE does: exit 3 for the caller to decide; warn (exit 0, a"
    " warning); or fail (exit 1, as a regression)",
    commands=GATE,
    default="exit-3",
    name="unstable",
)
JUNIT_XML = Option(
    PathArg("any"),
    "also write the checks as JUnit XML, one testcase per check (a FAIL is a failure)",
    commands=GATE | AB,
    name="junit-xml",
    metavar="FILE",
)
GITHUB = Option(
    Flag(),
    "GitHub Actions: ::error / ::warning annotations on stdout, the table appended to $GITHUB_STEP_SUMMARY"
    " (printed when that is not set)",
    commands=GATE | AB,
    default=False,
    name="github",
)
WRITE = Option(
    Flag(),
    "write gate.json and the report's Gate section into each run directory (--no-write leaves them as"
    " they were)",
    commands=GATE,
    default=True,
    name="write",
)
AB_SCENARIO = Option(
    PathArg("file"),
    "the scenario file both variants run (`lbbench compare --config` it)",
    commands=AB,
    name="scenario",
    metavar="FILE",
)
AB_A = Option(
    Text(),
    "variant A's compare flags, quoted as one argument, e.g. --a '--server-bin /usr/bin/redis-server'",
    commands=AB,
    default=Derived("none: the scenario as it is"),
    name="a",
    metavar="FLAGS",
)
AB_B = Option(
    Text(),
    "variant B's compare flags, as --a",
    commands=AB,
    default=Derived("none: the scenario as it is"),
    name="b",
    metavar="FLAGS",
)
AB_A_REF = Option(
    Text(),
    "run A from this git ref of the harness (its own worktree and virtualenv, removed after)",
    commands=AB,
    default=Derived("this checkout"),
    name="a-ref",
    metavar="REF",
)
AB_B_REF = Option(
    Text(),
    "run B from this git ref, as --a-ref",
    commands=AB,
    default=Derived("this checkout"),
    name="b-ref",
    metavar="REF",
)
AB_ROUNDS = Option(
    Integer(min=3),
    "rounds: each runs A and B once, in a random order",
    commands=AB,
    default=8,
    name="rounds",
)
AB_ORDER_SEED = Option(
    Integer(min=0),
    "seed of the order within rounds (the same seed, the same order)",
    commands=AB,
    default=0,
    name="order-seed",
)
AB_INVALID_RERUNS = Option(
    Integer(min=0),
    "run a round again, both variants, when one of its runs is not valid; at most this many times"
    " per round (a round still invalid then fails the A/B)",
    commands=AB,
    default=1,
    name="invalid-reruns",
)
AB_OUT = Option(
    PathArg("out"),
    "where the rounds' runs, their logs, ab.md and ab.json are written",
    commands=AB,
    default=Derived("results/<time>-ab"),
    name="out",
    scenario=False,
    metavar="DIR",
)
FAIL_IF_INVALID = Option(
    Flag(),
    "exit 1 when a strategy's run is not valid (the load generator, not Redis, was measured)",
    commands=frozenset({"compare"}),
    default=False,
    name="fail-if-invalid",
)
BASELINE_NAME = Option(
    Text(),
    "file name without .json (letters, digits, . _ -)",
    commands=frozenset({"baseline save"}),
    name="name",
    required=True,
)
BASELINE_DIR = Option(
    PathArg("any"),
    "directory",
    commands=frozenset({"baseline save"}),
    default=Derived("results/baselines"),
    name="dir",
    metavar="DIR",
)
BASELINE_OVERWRITE = Option(
    Flag(),
    "replace an existing baseline of that name",
    commands=frozenset({"baseline save"}),
    default=False,
    name="overwrite",
)

IMAGE_ACTION = Option(
    Choice(("build",)),
    "what to do",
    commands=frozenset({"image"}),
    name="action",
    positional=True,
    required=True,
)
IMAGE_ONLY = Option(
    Choice(IMAGE_TARGETS),
    "build just this image",
    commands=frozenset({"image"}),
    default=Derived("all three"),
    name="only",
)
IMAGE_BASE = Option(
    Text(),
    "the loadgen image's base, e.g. python:3.11-slim where a registry can be reached",
    commands=frozenset({"image"}),
    default=Derived("lbbench/python:<X.Y>, built here from this machine's Python"),
    name="base",
    metavar="IMAGE",
)

OPTIONS: tuple[Option, ...] = (
    *declared_options(TopologyOptions),
    *declared_options(CompareOptions),
    PARAM,
    VALUES,
    REPEATS,
    PROFILES,
    RECHECK,
    STRATEGY,
    N,
    JSON,
    BUDGET,
    REPORT_RUN,
    GATED_RUNS,
    SAVED_RUNS,
    HISTORY_RUNS,
    HISTORY_TO,
    HISTORY_FILE,
    OTAVA_OUT,
    HISTORY,
    BRANCH,
    BASELINE,
    CHECK,
    UNSTABLE,
    JUNIT_XML,
    GITHUB,
    WRITE,
    FAIL_IF_INVALID,
    AB_SCENARIO,
    AB_A,
    AB_B,
    AB_A_REF,
    AB_B_REF,
    AB_ROUNDS,
    AB_ORDER_SEED,
    AB_INVALID_RERUNS,
    AB_OUT,
    BASELINE_NAME,
    BASELINE_DIR,
    BASELINE_OVERWRITE,
    IMAGE_ACTION,
    IMAGE_ONLY,
    IMAGE_BASE,
)


def topology_options(args: argparse.Namespace) -> TopologyOptions:
    return from_values(TopologyOptions, args)


def compare_options(args: argparse.Namespace, **overrides: Any) -> CompareOptions:
    """The run's options from resolved flags (``overrides`` win)."""
    options = from_values(CompareOptions, args, topology=topology_options(args))
    return replace(options, **overrides) if overrides else options
