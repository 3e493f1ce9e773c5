"""`lbbench sweep`: one parameter over several values, each point a normal `compare` run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench import scenario
from bench.console import status
from bench.declare import Choice, Csv, Option
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


def point_name(param: SweepParam, value: float) -> str:
    return f"{param.name}={value:g}"


def sweep(
    param: SweepParam,
    values: list[float],
    base: CompareOptions,
    out: Path,
    after_point: Callable[[Path], None],
) -> Path:
    """Run every point into ``out/points/<param>=<value>/``; sweep.json lists them. Returns ``out``.

    Every point's options are validated before the first server starts, so a bad value fails fast.
    """
    points = [(value, param.apply(base, value)) for value in values]
    for _, options in points:
        options.validate()
    run = RunDir(out)
    sweep_dir = run.create()
    try:
        chosen = [(PARAM, param.name), (VALUES, tuple(f"{v:g}" for v in values))]
        scenario.write(sweep_dir / SCENARIO, "sweep", chosen + base.scenario_values("sweep"))
        for i, (value, options) in enumerate(points, start=1):
            status(
                f"sweep point {i}/{len(points)}: {point_name(param, value)} ({', '.join(options.strategies)})"
            )
            point_dir = compare(replace(options, out=sweep_dir / SWEEP_POINTS / point_name(param, value)))
            after_point(point_dir)
        described: dict[str, Any] = run_meta(out.name, base.as_json(), {})
        described.update(
            kind="sweep",
            param=param.name,
            unit=param.unit,
            values=values,
            points=[point_name(param, v) for v in values],
            finished_utc=utc_now().isoformat(timespec="seconds"),
        )
        write_json(sweep_dir / SWEEP, described)
    except BaseException:
        run.discard()
        raise
    return run.commit()
