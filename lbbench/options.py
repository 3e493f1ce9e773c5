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
from bench.run.sweep import PARAM, VALUES
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

GATED_RUNS = Option(
    PathArg("any"),
    "one run, or K repeats of it",
    commands=frozenset({"gate", "baseline save"}),
    name="run-dir",
    positional=True,
    many=True,
    required=True,
    scenario=False,
)
BASELINE = Option(
    PathArg("any"),
    "baseline file, summary.json or run dir; alone, it gates the default checks",
    commands=frozenset({"gate"}),
    name="baseline",
    metavar="FILE",
)
CHECK = Option(
    Text(),
    "e.g. 'cached.redis_commands_per_request == 1'; repeatable; replaces the default checks",
    commands=frozenset({"gate"}),
    name="check",
    repeat=True,
    metavar="EXPR",
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
    PROFILES,
    RECHECK,
    STRATEGY,
    N,
    JSON,
    BUDGET,
    REPORT_RUN,
    GATED_RUNS,
    BASELINE,
    CHECK,
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
