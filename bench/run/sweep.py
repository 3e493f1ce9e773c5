"""`lbbench sweep`: one parameter over several values, each point a normal `compare` run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench import scenario
from bench.console import status
from bench.declare import Choice, Csv, Integer, Option
from bench.errors import UsageError
from bench.probes.meta import run_meta, utc_now
from bench.run.compare import CompareOptions, RunDir, compare
from bench.topology import get_provider
from bench.units import parse_duration
from runfiles import SCENARIO, SWEEP, SWEEP_POINTS, write_json


@dataclass(frozen=True)
class SweepParam:
    """A sweepable option: how to parse a value and where it goes in CompareOptions."""

    name: str
    parse: Callable[[str], float]
    apply: Callable[[CompareOptions, float], CompareOptions]
    default_strategies: str  # the strategies the parameter matters to
    unit: str


def _set_shards(options: CompareOptions, value: float) -> CompareOptions:
    if not get_provider(options.topology).owns_data:
        raise UsageError("a shard-count sweep spawns its own servers; drop --shard-url/--cache-url")
    return replace(options, topology=replace(options.topology, shards=int(value)))


PARAMS: dict[str, SweepParam] = {
    p.name: p
    for p in (
        SweepParam(
            "refresh-interval",
            parse_duration,
            lambda o, v: replace(o, refresh_interval_s=v),
            "cached",
            "s",
        ),
        SweepParam("shards", int, _set_shards, "naive,cached", "shards"),
        SweepParam("rps", float, lambda o, v: replace(o, rps=v), "naive,cached", "req/s"),
        SweepParam(
            "read-write-ratio",
            int,
            lambda o, v: replace(o, read_write_ratio=int(v)),
            "cached,incremental",
            "reads per write",
        ),
    )
}


#: `lbbench sweep PARAM --values ...`: declared here, where the sweep's scenario.toml is written.
PARAM = Option(
    Choice(lambda: sorted(PARAMS)),
    "the parameter to vary",
    commands=frozenset({"sweep"}),
    name="param",
    positional=True,
    required=True,
)
VALUES = Option(
    Csv(),
    "its values, comma-separated, e.g. 5,10,30,60 (refresh intervals take units: 500ms,1s,5s)",
    commands=frozenset({"sweep"}),
    name="values",
    required=True,
    metavar="V1,V2,...",
)


REPEATS = Option(
    Integer(min=1),
    "run every value this many times, in rounds (each value once, then each again), so the table and"
    " the plot show the spread between runs",
    commands=frozenset({"sweep"}),
    default=1,
    name="repeats",
)


def parse_values(param: SweepParam, words: tuple[str, ...]) -> list[float]:
    """``("5", "10", "60")`` -> ``[5.0, 10.0, 60.0]`` (ints for integer parameters); UsageError otherwise."""
    values: list[float] = []
    for part in words:
        try:
            value = param.parse(part.replace("_", ""))
        except ValueError:
            raise UsageError(f"--values: {part!r} is not a number for {param.name}") from None
        if value <= 0:
            raise UsageError(f"--values: {param.name} must be positive, got {part}")
        values.append(value)
    if len(values) < 2 or len(set(values)) != len(values):
        raise UsageError(f"--values needs at least two different values, got {','.join(words)!r}")
    return values


def point_name(param: SweepParam, value: float, repeat: int = 1) -> str:
    """``shards=3``; its second run (``--repeats``) ``shards=3-r2``."""
    return f"{param.name}={value:g}" + (f"-r{repeat}" if repeat > 1 else "")


def sweep(
    param: SweepParam,
    values: list[float],
    base: CompareOptions,
    out: Path,
    after_point: Callable[[Path], None],
    *,
    repeats: int = 1,
) -> Path:
    """Run every point into ``out/points/<param>=<value>[-r<n>]/``; sweep.json lists them. Returns ``out``.

    With ``repeats``, all the values run once, then all again: a drift of the machine over the sweep
    spreads over every value instead of biasing the last ones. Every point's options are validated
    before the first server starts, so a bad value fails fast.
    """
    points = [
        (value, repeat, param.apply(base, value)) for repeat in range(1, repeats + 1) for value in values
    ]
    for _, _, options in points:
        options.validate()
    run = RunDir(out)
    sweep_dir = run.create()
    try:
        chosen = [(PARAM, param.name), (VALUES, tuple(f"{v:g}" for v in values)), (REPEATS, repeats)]
        scenario.write(sweep_dir / SCENARIO, "sweep", chosen + base.scenario_values("sweep"))
        names = [point_name(param, value, repeat) for value, repeat, _ in points]
        for i, ((_, _, options), name) in enumerate(zip(points, names, strict=True), start=1):
            status(f"sweep point {i}/{len(points)}: {name} ({', '.join(options.strategies)})")
            point_dir = compare(replace(options, out=sweep_dir / SWEEP_POINTS / name))
            after_point(point_dir)
        described: dict[str, Any] = run_meta(out.name, base.as_json(), {})
        described.update(
            kind="sweep",
            param=param.name,
            unit=param.unit,
            values=[value for value, _, _ in points],  # one per point: repeated values repeat
            points=names,
            repeats=repeats,
            finished_utc=utc_now().isoformat(timespec="seconds"),
        )
        write_json(sweep_dir / SWEEP, described)
    except BaseException:
        run.discard()
        raise
    return run.commit()
