"""The metric table: one row per metric, read by the summary, the report, the sweep and the gate.

A row names the metric (its tidy name, the sweep.csv column), says where it lives in a strategy's
summary.json entry (a path), whether it is an exact counter or a timing, which report tables show it
and how, whether the sweep tabulates it, its default gate check, and, for a flat figure, how the
summary computes it from the strategy's Totals. Nested sections (latency_us, refresher, staleness,
memory, rank) keep their own builders; their rows only point at them by path.

Order: rows are in the order of the report's columns; the sweep's columns follow the rows' order, and
the few report columns placed differently say so with ``before``. Today's report order is pinned by
tests/unit/test_metrics.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from analysis.metrics.model import (
    COMPARISON,
    CROSS_CHECK,
    EXACT,
    HIGHER,
    LOWER,
    MEMORY,
    RANK,
    REFRESHER,
    STALENESS,
    TIMING,
    Cell,
    Figure,
    Metric,
    Show,
    Table,
    Totals,
    Traffic,
    exact,
    per_request,
    per_second,
    shown,
    timing,
)
from analysis.metrics.table import METRICS
from runfiles.typed import field_value

__all__ = [
    "COMPARISON",
    "CROSS_CHECK",
    "EXACT",
    "HIGHER",
    "LOWER",
    "MEMORY",
    "METRICS",
    "RANK",
    "REFRESHER",
    "STALENESS",
    "TIMING",
    "Figure",
    "Metric",
    "Show",
    "Table",
    "Totals",
    "Traffic",
    "columns",
    "default_checks",
    "exact",
    "exact_leaf_keys",
    "figures",
    "key_columns",
    "key_labels",
    "per_request",
    "per_second",
    "shown",
    "tidy_fields",
    "timing",
    "value_at",
]


def value_at(section: Any, path: Sequence[str]) -> Any:
    """The value at a path into a summary, typed (runfiles.summary) or as JSON; None where it is missing."""
    value = section
    for key in path:
        value = field_value(value, key)
    return value


def _cell(metric: Metric, show: Show) -> Cell:
    """A cell function of the table's section (the strategy entry, or its sub-section ``root``)."""
    if show.whole:
        return show.fmt
    assert metric.path is not None, metric.name
    relative = metric.path[len(show.table.root) :]
    return lambda section: show.fmt(value_at(section, relative))


def columns(table: Table) -> list[tuple[str, Cell]]:
    """A report table's (header, cell) columns: in the rows' order, each ``before`` column moved."""
    shows = [(metric, show) for metric in METRICS for show in metric.shows if show.table == table]
    ordered = [(metric, show) for metric, show in shows if show.before is None]
    for metric, show in shows:
        if show.before is not None:
            at = next(i for i, (other, _) in enumerate(ordered) if other.name == show.before)
            ordered.insert(at, (metric, show))
    return [(show.label, _cell(metric, show)) for metric, show in ordered]


def key_columns(table: Table) -> list[tuple[str, Cell]]:
    """The table's key columns (``Show.key``), in the table's order: a wide table's first view."""
    keys = {show.label for metric in METRICS for show in metric.shows if show.table == table and show.key}
    return [(label, cell) for label, cell in columns(table) if label in keys]


def key_labels() -> frozenset[str]:
    """Every key column's header, whichever table shows it, and its metric's tidy name (sweep.md's
    columns are the tidy names)."""
    keyed = [(metric, show) for metric in METRICS for show in metric.shows if show.key]
    return frozenset(show.label for _, show in keyed) | frozenset(metric.name for metric, _ in keyed)


def exact_leaf_keys() -> frozenset[str]:
    """The last keys of the exact metrics' paths: what makes a gate check exact."""
    return frozenset(m.path[-1] for m in METRICS if m.kind == EXACT and m.path is not None)


def tidy_fields() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(column, path) of every metric the sweep tabulates, in the rows' order."""
    return tuple((m.name, m.path) for m in METRICS if m.sweep and m.path is not None)


def figures(totals: Totals) -> dict[str, float | None]:
    """Every flat figure the summary computes from a strategy's totals, by summary.json key."""
    return {m.name: m.figure.of(totals) for m in METRICS if m.figure is not None}


def default_checks(strategy: str) -> list[str]:
    """The default gate checks on one strategy, in the rows' order."""
    return [check for m in METRICS if (check := m.default_check(strategy)) is not None]
