"""What a row of the metric table says: kinds, totals, figures, report columns, gate defaults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# EXACT: counters machine noise does not move (gated with == and a tolerance); TIMING: anything else
# (latencies, CPU, rates, sizes), which the gate judges by the noise rule. The gate tells them apart
# by the last key of a path (checks.EXACT_KEYS).
EXACT, TIMING = "exact", "timing"
# The direction in which a metric is better; its default gate check fails on a move the other way.
LOWER, HIGHER = "lower", "higher"
# A report cell from its table's section: a strategy's entry, or one of its sections (runfiles.summary).
Cell = Callable[[Any], str]


@dataclass(frozen=True)
class Traffic:
    """Commands and bytes over a strategy's window; bytes_out is what Redis sent."""

    commands: float
    bytes_out: float
    bytes_in: float


@dataclass(frozen=True)
class Totals:
    """A strategy's totals over its window: what the flat per-request figures divide."""

    requests: int
    failures: int
    duration_s: float  # 0 when unknown
    redis: Traffic  # Redis-side, the writer's traffic taken out
    client: Traffic  # the load generator's reads, counted on its own sockets
    redis_cpu_s: float
    client_cpu_s: float
    # The generator's CPU over the load window above its idle baseline; None where not measured.
    client_cpu_marginal_s: float | None = None
    relay_cpu_s: float | None = None  # see Window.relay_cpu_s
    redirects: float = 0.0  # MOVED/ASK the reads followed (a Redis Cluster resharding)
    partial: int = 0  # of the requests, those answered without some shards
    fallbacks: int = 0  # requests (answered or failed) that took the strategy's fallback path

    @property
    def attempts(self) -> int:
        """Requests + failures, at least 1: the denominator of every per-request figure."""
        return max(self.requests + self.failures, 1)


@dataclass(frozen=True)
class Figure:
    """How the summary computes a flat figure from the Totals, and its rounding (None: as is)."""

    value: Callable[[Totals], float | None]
    digits: int | None = None

    def of(self, totals: Totals) -> float | None:
        """The rounded figure (None where the run could not measure it)."""
        value = self.value(totals)
        return value if self.digits is None or value is None else round(value, self.digits)


def per_request(amount: Callable[[Totals], float], digits: int) -> Figure:
    """amount / attempts."""
    return Figure(lambda t: amount(t) / t.attempts, digits)


def per_request_known(amount: Callable[[Totals], float | None], digits: int) -> Figure:
    """amount / attempts, None where the run did not measure the amount."""

    def value(t: Totals) -> float | None:
        measured = amount(t)
        return None if measured is None else measured / t.attempts

    return Figure(value, digits)


def per_second(amount: Callable[[Totals], float], digits: int) -> Figure:
    """amount / duration, 0 when the duration is unknown."""
    return Figure(lambda t: amount(t) / t.duration_s if t.duration_s > 0 else 0.0, digits)


@dataclass(frozen=True)
class Table:
    """A report table; each of its rows is a section of a strategy's entry (``root``)."""

    name: str
    root: tuple[str, ...] = ()


COMPARISON, CROSS_CHECK = Table("comparison"), Table("cross_check")
REFRESHER, STALENESS = Table("refresher", ("refresher",)), Table("staleness", ("staleness",))
MEMORY, RANK = Table("memory", ("memory",)), Table("rank", ("rank",))


@dataclass(frozen=True)
class Show:
    """One report column: table, header, and the cell's formatter of the metric's value.

    ``whole``: the formatter takes the table's whole section (columns that combine several values).
    ``before``: the tidy name of the column this one precedes, where the table's order is not the rows'.
    ``key``: one of the few columns report.html shows before the rest of a wide table's (behind a
    disclosure), and in its headline.
    """

    table: Table
    label: str
    fmt: Callable[[Any], str]
    whole: bool = False
    before: str | None = None
    key: bool = False


@dataclass(frozen=True)
class Metric:
    """One row of the table (module docstring)."""

    name: str
    path: tuple[str, ...] | None  # None: a report column computed from other values, not in summary.json
    kind: str
    shows: tuple[Show, ...] = ()
    sweep: bool = False
    tolerance: float | None = None  # exact: the default gate check is == baseline within this fraction
    # The direction in which the metric is better: the default check fails only on a move the other way
    # (a timing: by the noise rule; an exact flag or count such as valid or failures: exactly).
    better: str | None = None
    figure: Figure | None = None

    def default_check(self, strategy: str) -> str | None:
        """The default gate check on this metric of one strategy, None when not in the default set."""
        if self.path is None:
            return None
        metric = ".".join((strategy, *self.path))
        if self.better is not None:
            return f"{metric} {'<=' if self.better == LOWER else '>='} baseline"
        if self.kind == EXACT:
            within = f" +- {self.tolerance * 100:g}%" if self.tolerance else ""
            return f"{metric} == baseline{within}"
        return None


def _path(name: str, at: str | None) -> tuple[str, ...]:
    return tuple((at or name).split("."))


def exact(
    name: str,
    *shows: Show,
    at: str | None = None,
    tolerance: float = 0.0,
    better: str | None = None,
    sweep: bool = False,
    figure: Figure | None = None,
) -> Metric:
    """An exact counter at ``at`` (a dotted path; default: the name)."""
    return Metric(name, _path(name, at), EXACT, shows, sweep, tolerance, better, figure)


def timing(
    name: str,
    *shows: Show,
    at: str | None = None,
    better: str | None = None,
    sweep: bool = False,
    figure: Figure | None = None,
) -> Metric:
    """A timing (anything noise can move) at ``at`` (a dotted path; default: the name)."""
    return Metric(name, _path(name, at), TIMING, shows, sweep, better=better, figure=figure)


def shown(name: str, *shows: Show) -> Metric:
    """A report column computed from the section's other values (not in summary.json)."""
    return Metric(name, None, TIMING, shows)
