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

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from analysis.fmt import Strategy, fmt_count, fmt_kb, fmt_ms, invalid_reason, num, ratio

# EXACT: counters machine noise does not move (gated with == and a tolerance); TIMING: anything else
# (latencies, CPU, rates, sizes), which the gate judges by the noise rule. The gate tells them apart
# by the last key of a path (checks.EXACT_KEYS).
EXACT, TIMING = "exact", "timing"
# The direction in which a metric is better; its default gate check fails on a move the other way.
LOWER, HIGHER = "lower", "higher"
Cell = Callable[[Strategy], str]


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

    @property
    def attempts(self) -> int:
        """Requests + failures, at least 1: the denominator of every per-request figure."""
        return max(self.requests + self.failures, 1)


@dataclass(frozen=True)
class Figure:
    """How the summary computes a flat figure from the Totals, and its rounding (None: as is)."""

    value: Callable[[Totals], float]
    digits: int | None = None

    def of(self, totals: Totals) -> float:
        """The rounded figure."""
        value = self.value(totals)
        return value if self.digits is None else round(value, self.digits)


def per_request(amount: Callable[[Totals], float], digits: int) -> Figure:
    """amount / attempts."""
    return Figure(lambda t: amount(t) / t.attempts, digits)


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
    """

    table: Table
    label: str
    fmt: Callable[[Any], str]
    whole: bool = False
    before: str | None = None


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


def valid_cell(section: Strategy) -> str:
    """yes/no from the saturation guard."""
    if "valid" not in section:
        return "n/a"  # summaries before the saturation guard
    return "no" if invalid_reason(section) else "yes"


def refresh_rate_cell(refresher: Strategy) -> str:
    """The refresher's commands per second of its interval."""
    return fmt_count(ratio(num(refresher, "commands_per_refresh"), num(refresher, "interval_s")), 2)


def rank_error_cell(rank: Strategy) -> str:
    """p50 / p99 / max absolute rank error."""
    return " / ".join(fmt_count(num(rank, f"rank_error_abs_{q}")) for q in ("p50", "p99", "max"))


def rank_rel_cell(rank: Strategy) -> str:
    """p50 / p99 relative rank error in percent."""
    values = [num(rank, f"rank_error_rel_{q}") for q in ("p50", "p99")]
    return " / ".join("n/a" if v is None else f"{v * 100:.3f}%" for v in values)


_CMP, _XC, _REF, _STALE = COMPARISON, CROSS_CHECK, REFRESHER, STALENESS

# fmt: off
METRICS: tuple[Metric, ...] = (
    exact("valid", Show(_CMP, "valid", valid_cell, whole=True), better=HIGHER, sweep=True),
    timing("requests", Show(_CMP, "requests", count()), figure=Figure(lambda t: t.requests)),
    exact("failures", Show(_CMP, "failures", count()), better=LOWER, figure=Figure(lambda t: t.failures)),
    timing("duration_s", figure=Figure(lambda t: t.duration_s, 3)),
    timing("rps", Show(_CMP, "req/s", count(1)), sweep=True, figure=per_second(lambda t: t.requests, 1)),
    timing("target_rps", Show(_CMP, "target req/s", target_rps, before="rps"), sweep=True),
    timing("latency_us_p50", Show(_CMP, "p50 (ms)", ms), at="latency_us.p50", sweep=True, better=LOWER),
    timing("latency_us_p90", Show(_CMP, "p90 (ms)", ms), at="latency_us.p90"),
    timing("latency_us_p99", Show(_CMP, "p99 (ms)", ms), at="latency_us.p99", sweep=True, better=LOWER),
    timing("latency_us_p999", Show(_CMP, "p99.9 (ms)", ms), at="latency_us.p999"),
    timing("latency_us_max", Show(_CMP, "max (ms)", ms), at="latency_us.max"),
    timing("latency_us_raw_p99", Show(_CMP, "raw p99 (ms)", ms), at="latency_us_raw.p99"),
    timing("schedule_lag_us_p99", Show(_CMP, "lag p99 (ms)", ms), at="schedule_lag_us.p99"),
    exact("client_commands_per_request", Show(_XC, "client cmds/req", count(3)),
          figure=per_request(lambda t: t.client.commands, 4)),
    exact("redis_commands_per_request", Show(_CMP, "Redis cmds/req", count(2)),
          Show(_XC, "Redis cmds/req", count(3)),
          sweep=True, figure=per_request(lambda t: t.redis.commands, 4)),
    timing("cross_check_commands", Show(_XC, "cmds ratio", ratio4), at="cross_check.commands"),
    exact("client_bytes_out_per_request", Show(_XC, "client bytes out/req", count()), tolerance=0.01,
          figure=per_request(lambda t: t.client.bytes_out, 1)),
    exact("bytes_out_per_request", Show(_CMP, "bytes out/req (kB)", kb),
          Show(_XC, "Redis bytes out/req", count()), tolerance=0.01, sweep=True,
          figure=per_request(lambda t: t.redis.bytes_out, 1)),
    timing("cross_check_bytes_out", Show(_XC, "bytes out ratio", ratio4), at="cross_check.bytes_out"),
    exact("client_bytes_in_per_request", Show(_XC, "client bytes in/req", count()), tolerance=0.01,
          figure=per_request(lambda t: t.client.bytes_in, 1)),
    exact("bytes_in_per_request", Show(_CMP, "bytes in/req (B)", count()),
          Show(_XC, "Redis bytes in/req", count()), tolerance=0.01,
          figure=per_request(lambda t: t.redis.bytes_in, 1)),
    timing("cross_check_bytes_in", Show(_XC, "bytes in ratio", ratio4), at="cross_check.bytes_in"),
    exact("cross_check_agree", Show(_XC, "agree", yes_no), at="cross_check.agree", better=HIGHER),
    timing("client_cpu_us_per_request", Show(_CMP, "client CPU µs/req", count()), sweep=True, better=LOWER,
           figure=per_request(lambda t: t.client_cpu_s * 1e6, 1)),
    timing("loadgen_cpu_percent_max", Show(_CMP, "generator CPU max %", count(1)),
           at="loadgen_cpu_percent.max"),
    timing("redis_cpu_us_per_request", Show(_CMP, "Redis CPU µs/req", count(1)), sweep=True,
           figure=per_request(lambda t: t.redis_cpu_s * 1e6, 1)),
    timing("redis_ops_per_s", Show(_CMP, "Redis ops/s", count()),
           figure=per_second(lambda t: t.redis.commands, 1)),
    exact("nodes_per_request", Show(_CMP, "nodes/req", count())),
    timing("refresh_interval_s", Show(_REF, "interval (s)", count(1)), at="refresher.interval_s", sweep=True),
    timing("refreshes", Show(_REF, "refreshes", count()), at="refresher.refreshes"),
    exact("refresh_commands", Show(_REF, "commands/refresh", count(1)), at="refresher.commands_per_refresh",
          sweep=True),
    exact("refresh_bytes_out", Show(_REF, "bytes out/refresh (kB)", kb), at="refresher.bytes_out_per_refresh",
          tolerance=0.01, sweep=True),
    exact("refresh_bytes_in", Show(_REF, "bytes in/refresh (kB)", kb), at="refresher.bytes_in_per_refresh",
          tolerance=0.01),
    timing("refresh_duration_ms_p50", Show(_REF, "duration p50 (ms)", count(2)),
           at="refresher.duration_ms.p50"),
    timing("refresh_duration_ms_max", Show(_REF, "duration max (ms)", count(2)),
           at="refresher.duration_ms.max"),
    shown("refresh_commands_per_s", Show(_REF, "commands/s", refresh_rate_cell, whole=True)),
    timing("stale_samples", Show(_STALE, "samples", count()), at="staleness.samples"),
    timing("stale_entries_mean", Show(_STALE, "top-n entries differing: mean", count(2)),
           at="staleness.entries_differ.mean", sweep=True),
    timing("stale_entries_p95", Show(_STALE, "p95", count(1)), at="staleness.entries_differ.p95"),
    timing("stale_entries_max", Show(_STALE, "max", count()), at="staleness.entries_differ.max", sweep=True),
    timing("stale_share_differing", Show(_STALE, "samples differing", percent(0)),
           at="staleness.share_of_samples_differing"),
    timing("stale_displacement_mean", at="staleness.max_rank_displacement.mean", sweep=True),
    timing("stale_displacement_max", Show(_STALE, "max rank displacement", count()),
           at="staleness.max_rank_displacement.max", sweep=True),
    timing("stale_missing_max", Show(_STALE, "missing from cache (max)", count()),
           at="staleness.missing_from_cache_max"),
    timing("cache_age_s_mean", Show(_STALE, "cache age mean (s)", count(1), before="stale_entries_mean"),
           at="staleness.cache_age_s.mean", sweep=True),
    timing("cache_age_s_max", Show(_STALE, "cache age max (s)", count(1), before="stale_entries_mean"),
           at="staleness.cache_age_s.max"),
    timing("shard_key_bytes", Show(MEMORY, "shard keys (MB)", mb), at="memory.shard_key_bytes"),
    timing("bytes_per_player", Show(MEMORY, "bytes/player", count(1)), at="memory.bytes_per_player"),
    timing("cache_key_bytes", Show(MEMORY, "cache key (kB)", kb), at="memory.cache_key_bytes"),
    timing("cache_vs_shards", Show(MEMORY, "cache / shards", percent(4)), at="memory.cache_vs_shards"),
    timing("global_set_bytes", Show(MEMORY, "global set (MB)", mb), at="memory.global_set_bytes"),
    # Rank costs per query are not in EXACT_KEYS today: the gate judges them as timings.
    timing("rank_is_exact", Show(RANK, "exact by design", yes_no), at="rank.rank_is_exact"),
    timing("rank_queries", Show(RANK, "queries", count()), at="rank.queries"),
    timing("rank_commands_per_query", Show(RANK, "cmds/query", count(2)), at="rank.commands_per_query"),
    timing("rank_bytes_out_per_query", Show(RANK, "bytes out/query", count()), at="rank.bytes_out_per_query"),
    timing("rank_bytes_in_per_query", Show(RANK, "bytes in/query", count()), at="rank.bytes_in_per_query"),
    timing("rank_query_us_p50", Show(RANK, "µs/query p50", count()), at="rank.query_us_p50"),
    shown("rank_error_abs", Show(RANK, "abs error p50 / p99 / max", rank_error_cell, whole=True)),
    shown("rank_error_rel", Show(RANK, "rel error p50 / p99", rank_rel_cell, whole=True)),
    timing("rank_share_exact", Show(RANK, "share exact", share), at="rank.share_exact"),
)
# fmt: on


def value_at(section: Any, path: Sequence[str]) -> Any:
    """The value at a path of nested dicts, None where a key or a dict is missing."""
    value = section
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
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


def exact_leaf_keys() -> frozenset[str]:
    """The last keys of the exact metrics' paths: what makes a gate check exact."""
    return frozenset(m.path[-1] for m in METRICS if m.kind == EXACT and m.path is not None)


def tidy_fields() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(column, path) of every metric the sweep tabulates, in the rows' order."""
    return tuple((m.name, m.path) for m in METRICS if m.sweep and m.path is not None)


def figures(totals: Totals) -> dict[str, float]:
    """Every flat figure the summary computes from a strategy's totals, by summary.json key."""
    return {m.name: m.figure.of(totals) for m in METRICS if m.figure is not None}


def default_checks(strategy: str) -> list[str]:
    """The default gate checks on one strategy, in the rows' order."""
    return [check for m in METRICS if (check := m.default_check(strategy)) is not None]
