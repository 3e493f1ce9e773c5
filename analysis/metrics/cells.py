"""Formatters of the report's cells, one per kind of figure."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from analysis.fmt import fmt_count, fmt_kb, fmt_ms, invalid_reason, ratio
from runfiles.summary import Rank, Refresher, StrategySummary


def number(value: Any) -> float | None:
    """A finite number, or None (missing, null, NaN, a bool): what analysis.fmt.num returns."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def numeric(render: Callable[[float | None], str]) -> Callable[[Any], str]:
    """A cell formatter: ``render`` of the value as a number (None unless a finite number)."""
    return lambda value: render(number(value))


def count(decimals: int = 0) -> Callable[[Any], str]:
    """Thousands separators and ``decimals`` decimals."""
    return numeric(lambda n: fmt_count(n, decimals))


def percent(decimals: int) -> Callable[[Any], str]:
    """A fraction as a percentage; missing counts as 0."""
    return numeric(lambda n: f"{n or 0:.{decimals}%}")


ms, kb = numeric(fmt_ms), numeric(fmt_kb)  # µs as ms; bytes as kB
mb = numeric(lambda n: fmt_count(ratio(n, 1e6), 1))
ratio4 = numeric(lambda n: "n/a" if n is None else f"{n:.4f}")  # a Redis/client ratio
target_rps = numeric(lambda n: fmt_count(n, 1) if n else "none")  # closed loop has no target
share = numeric(lambda n: "n/a" if n is None else f"{n:.1%}")


def yes_no(value: Any) -> str:
    """A flag; missing is no."""
    return "yes" if value else "no"


def valid_cell(section: StrategySummary) -> str:
    """yes/no from the saturation guard."""
    if section.valid is None:
        return "n/a"  # summaries before the saturation guard
    return "no" if invalid_reason(section) else "yes"


def refresh_rate_cell(refresher: Refresher) -> str:
    """The refresher's commands per second of its interval."""
    return fmt_count(ratio(refresher.commands_per_refresh, refresher.interval_s), 2)


def rank_error_cell(rank: Rank) -> str:
    """p50 / p99 / max absolute rank error."""
    errors = (rank.rank_error_abs_p50, rank.rank_error_abs_p99, rank.rank_error_abs_max)
    return " / ".join(fmt_count(number(value)) for value in errors)


def rank_rel_cell(rank: Rank) -> str:
    """p50 / p99 relative rank error in percent."""
    values = [number(rank.rank_error_rel_p50), number(rank.rank_error_rel_p99)]
    return " / ".join("n/a" if v is None else f"{v * 100:.3f}%" for v in values)
