"""The plan's model checked on runs it did not see: predicted against measured, quantity by quantity.

The fit runs give each strategy's basis (figures/plan.py); each held-out point is measured REPEATS
times. A quantity passes at a point when:

- **commands and bytes per request** are exact, to ``EXACT`` (the rounding of counters read from
  INFO and the loadgen's per-request byte counts, the same tolerance as the perf gate's counter checks);
- **Redis CPU, client CPU and p50 per request** are within ``WITHIN`` of the repeats' mean;
- **top-n entries differing** lies within the repeats' range (the run-to-run spread), widened by
  ``SPREAD_FLOOR`` entries, since three repeats that happen to agree give a range of zero width.

A quantity is *validated* when it passes at every held-out point that measured it (and, for the top-n
error, was ever above zero there); the plan marks the others as not validated (render/plan.py). p99
has no bound: it is shown, never validated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analysis.figures.plan import Basis, Measured, ReplyBytes, bases, predict
from runfiles.summary import Percentiles, StrategySummary

EXACT = 0.01
WITHIN = 0.20
SPREAD_FLOOR = 0.5


@dataclass(frozen=True)
class Quantity:
    """One validated figure: how to read it from a summary, and its bound."""

    name: str
    label: str
    bound: str  # "exact", "within", "spread" or "none"
    measured: Callable[[StrategySummary], float | None]


def _p50(section: StrategySummary) -> float | None:
    return (section.latency_us_raw or Percentiles()).p50


def _p99(section: StrategySummary) -> float | None:
    return (section.latency_us_raw or Percentiles()).p99


def _differ(section: StrategySummary) -> float | None:
    stale = section.staleness
    return stale.entries_differ.mean if stale and stale.entries_differ else None


QUANTITIES = (
    Quantity(
        "commands_per_request", "Redis commands / request", "exact", lambda s: s.redis_commands_per_request
    ),
    Quantity(
        "bytes_out_per_request", "bytes out of Redis / request", "exact", lambda s: s.bytes_out_per_request
    ),
    Quantity("bytes_in_per_request", "bytes into Redis / request", "exact", lambda s: s.bytes_in_per_request),
    Quantity(
        "redis_cpu_us_per_request", "Redis CPU µs / request", "within", lambda s: s.redis_cpu_us_per_request
    ),
    Quantity(
        "client_cpu_us_per_request",
        "client CPU µs / request",
        "within",
        lambda s: s.client_cpu_us_per_request,
    ),
    Quantity("latency_us_p50", "p50 µs (loopback)", "within", _p50),
    Quantity("latency_us_p99", "p99 µs (loopback)", "none", _p99),
    Quantity("entries_differ_mean", "top-n entries differing", "spread", _differ),
)


@dataclass(frozen=True)
class Row:
    """One quantity of one strategy at one held-out point."""

    point: str
    strategy: str
    quantity: str
    predicted: float | None
    measured_mean: float | None
    measured_min: float | None
    measured_max: float | None
    error: float | None  # (predicted - mean) / mean
    passed: bool | None  # None: no bound, or nothing to compare


def _passes(quantity: Quantity, predicted: float, values: list[float]) -> tuple[float | None, bool | None]:
    mean = float(np.mean(values))
    error = (predicted - mean) / mean if mean else None
    if quantity.bound == "exact":
        return error, abs(predicted - mean) <= EXACT * abs(mean)
    if quantity.bound == "within":
        return error, error is not None and abs(error) <= WITHIN
    if quantity.bound == "spread":
        return error, min(values) - SPREAD_FLOOR <= predicted <= max(values) + SPREAD_FLOOR
    return error, None


def point_rows(label: str, basis: Basis, repeats: list[Measured]) -> list[Row]:
    """Every quantity of ``basis``'s strategy at one held-out point (its repeats)."""
    name = basis.strategy
    sections = [run.summary.strategies[name] for run in repeats if name in run.summary.strategies]
    first = repeats[0]
    section = sections[0]
    ratio = section.writes.read_write_ratio if section.writes else None
    scenario = first.summary.scenario
    prediction = predict(
        basis,
        players=first.players,
        shards=first.shards,
        rps=section.target_rps or section.rps or 0.0,
        read_write_ratio=ratio or 0,
        top_n=(scenario.top_n if scenario else None) or 100,
    )
    rows = []
    for quantity in QUANTITIES:
        predicted = getattr(prediction, quantity.name)
        values = [v for s in sections if (v := quantity.measured(s)) is not None]
        error, passed = (None, None)
        if predicted is not None and values:
            error, passed = _passes(quantity, float(predicted), values)
        rows.append(
            Row(
                point=label,
                strategy=name,
                quantity=quantity.name,
                predicted=None if predicted is None else float(predicted),
                measured_mean=float(np.mean(values)) if values else None,
                measured_min=min(values) if values else None,
                measured_max=max(values) if values else None,
                error=error,
                passed=passed,
            )
        )
    return rows


@dataclass(frozen=True)
class Validation:
    """Every row, which quantities held at every point, and how many points passed every bound."""

    fit: list[str]
    points: dict[str, list[str]]  # held-out point -> its repeats' run directories
    rows: list[Row]
    validated: dict[str, bool]
    points_passing: list[str]


def validate(
    fit: list[Measured], held_out: dict[str, list[Measured]], reply_bytes: ReplyBytes | None = None
) -> Validation:
    """Predict each held-out point from ``fit`` and compare it with the repeats measured there."""
    found = bases(fit, reply_bytes)
    rows: list[Row] = []
    for label, repeats in held_out.items():
        strategies = {name for run in repeats for name in run.summary.strategies}
        for name in sorted(strategies & set(found)):
            rows += point_rows(label, found[name], repeats)
    validated = {}
    for quantity in QUANTITIES:
        mine = [row for row in rows if row.quantity == quantity.name and row.passed is not None]
        # A figure the runs never saw move (every top-n comparison equal) checks nothing: not validated.
        moved = quantity.bound != "spread" or any(row.measured_max for row in mine)
        validated[quantity.name] = bool(mine) and all(row.passed for row in mine) and moved
        validated[quantity.name] = validated[quantity.name] and quantity.bound != "none"
    passing = [
        label
        for label in held_out
        if all(row.passed is not False for row in rows if row.point == label)
        and any(row.passed for row in rows if row.point == label)
    ]
    return Validation(
        fit=[str(run.run_dir) for run in fit],
        points={label: [str(run.run_dir) for run in runs] for label, runs in held_out.items()},
        rows=rows,
        validated=validated,
        points_passing=passing,
    )


def validation_json(validation: Validation, folder: Path) -> dict[str, Any]:
    """validation.json's content; run directories under ``folder`` named relative to it (the file
    moves with its folder)."""

    def named(path: str) -> str:
        return str(Path(path).relative_to(folder)) if Path(path).is_relative_to(folder) else path

    data = asdict(validation)
    data["fit"] = [named(path) for path in validation.fit]
    data["points"] = {label: [named(p) for p in paths] for label, paths in validation.points.items()}
    return {**data, "bounds": {"exact": EXACT, "within": WITHIN, "spread_floor": SPREAD_FLOOR}}


def read_validated(path: Path) -> dict[str, bool] | None:
    """The ``validated`` map of a validation.json, or None where there is none."""
    import json

    if not path.is_file():
        return None
    validated = json.loads(path.read_text()).get("validated")
    return {str(k): bool(v) for k, v in validated.items()} if isinstance(validated, dict) else None
