"""Per-second costs fitted over runs at different rates and shard counts: what a plan scales.

Per-request costs are not constant on a real machine: measured on this 2-core VM, 5 shards, 100k
players, going from 300 to 1,500 req/s cut naive's client CPU per request from 876 to 568 µs and the
Redis nodes' CPU per command from 81 to 49 µs (docs/planning.md). Part of each phase's CPU is paid per
second whatever the rate (timers, wake-ups, the servers' housekeeping); the rest per command or
request. So each strategy's CPU per second is fitted, by least squares over the runs that measured it:

- **Redis**: ``idle per node x nodes + fixed + per command x commands/s`` (every node's process CPU;
  the idle rate measured, the rest fitted);
- **client**: ``fixed + per request x req/s + per command x commands/s``; the last term only for a
  strategy whose commands per request differ between runs (naive at two shard counts).

Where the runs cannot separate the terms (one rate only), the fixed parts come from what the run
measured idle instead: the CPU per second of the Redis nodes that served no reads in some phase (the
cache node during naive's, the shards during a cached one), and the generator's CPU with nothing to
send (``client_cpu_us_per_request`` minus its ``_marginal``). The plan (figures/plan.py) divides a
fit by the rate it projects to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from runfiles.summary import StrategySummary, Summary

#: A node whose commands/s are under this share of the busiest one's counts as idle in that phase.
IDLE_SHARE = 0.01
#: Relative spread under which two runs' rates (or commands per request) count as one point.
DISTINCT = 0.05


@dataclass(frozen=True)
class Point:
    """One strategy's phase of one run, in per-second terms."""

    rps: float
    nodes: int
    commands_per_request: float
    redis_cpu_s_per_s: float
    client_cpu_s_per_s: float
    idle_node_cpu_s_per_s: float | None  # a Redis node serving no reads, this run
    client_idle_cpu_s_per_s: float | None  # the generator with nothing to send, this phase

    @property
    def commands_per_s(self) -> float:
        return self.commands_per_request * self.rps


def idle_node_cpu(summary: Summary) -> float | None:
    """CPU seconds per second of a Redis node serving no reads: the nodes idle in some phase."""
    rates = []
    for section in summary.strategies.values():
        nodes = section.per_node or {}
        duration = section.duration_s or 0.0
        busiest = max((n.ops_per_s or 0.0 for n in nodes.values()), default=0.0)
        if duration and busiest:
            rates += [
                (n.cpu_s or 0.0) / duration
                for n in nodes.values()
                if (n.ops_per_s or 0.0) < IDLE_SHARE * busiest
            ]
    return float(np.median(rates)) if rates else None


def point(section: StrategySummary, nodes: int, idle_node: float | None = None) -> Point | None:
    """A phase as a point of the fit; None without the rate, CPU or command counts it needs."""
    duration, rps = section.duration_s, section.rps
    per_node = section.per_node or {}
    client = section.client_cpu_us_per_request
    commands = section.redis_commands_per_request
    if not duration or not rps or not per_node or client is None or commands is None:
        return None
    if any(n.cpu_s is None for n in per_node.values()):
        return None
    redis_s = sum(n.cpu_s or 0.0 for n in per_node.values()) / duration
    marginal = section.client_cpu_us_per_request_marginal
    client_idle = None if marginal is None else max(client - marginal, 0.0) * rps / 1e6
    return Point(rps, nodes or len(per_node), commands, redis_s, client * rps / 1e6, idle_node, client_idle)


@dataclass(frozen=True)
class Fit:
    """A linear cost per second: ``sum(coefficient x term)``; the terms named as the docstring above."""

    terms: tuple[str, ...]
    coefficients: tuple[float, ...]
    points: int

    def per_s(self, values: dict[str, float]) -> float:
        return sum(c * values[t] for t, c in zip(self.terms, self.coefficients, strict=True))

    def coefficient(self, term: str) -> float | None:
        return dict(zip(self.terms, self.coefficients, strict=True)).get(term)

    def describe(self, unit: dict[str, str]) -> str:
        parts = [
            f"{c * 1e3:,.1f} ms {unit[t]}" if t in PER_SECOND else f"{c * 1e6:,.1f} µs {unit[t]}"
            for t, c in zip(self.terms, self.coefficients, strict=True)
        ]
        return " + ".join(parts) + f" (from {self.points} run{'s' if self.points != 1 else ''})"


def _distinct(values: Sequence[float]) -> int:
    """How many of ``values`` differ by more than DISTINCT of the largest."""
    kept: list[float] = []
    for value in sorted(values):
        if not kept or value - kept[-1] > DISTINCT * max(abs(value), 1e-12):
            kept.append(value)
    return len(kept)


def _terms(p: Point) -> dict[str, float]:
    return {"commands_per_s": p.commands_per_s, "nodes": float(p.nodes), "rps": p.rps, "fixed": 1.0}


def _least_squares(points: Sequence[Point], target: str, terms: tuple[str, ...]) -> Fit | None:
    """Non-negative coefficients only: a negative cost is an artefact of noise, so its term is dropped
    (the last such term first) and the rest fitted again."""
    values = [_terms(p) for p in points]
    targets = np.array([getattr(p, target) for p in points], dtype=float)
    while terms:
        matrix = np.array([[v[t] for t in terms] for v in values], dtype=float)
        solution, *_ = np.linalg.lstsq(matrix, targets, rcond=None)
        if (solution >= 0).all():
            return Fit(terms, tuple(float(c) for c in solution), len(points))
        negative = [t for t, c in zip(terms, solution, strict=True) if c < 0]
        terms = tuple(t for t in terms if t != negative[-1])
    return None


def redis_fit(points: Sequence[Point]) -> Fit | None:
    """Redis nodes' CPU per second: idle per node x nodes + fixed + per command x commands/s.

    The idle rate is measured (the nodes that served no reads), not fitted: the runs of one topology
    cannot tell a cost per node from a fixed one. The rest is fitted on what the nodes used above it.
    """
    if not points:
        return None
    idle = [p.idle_node_cpu_s_per_s for p in points if p.idle_node_cpu_s_per_s is not None]
    per_node = float(np.mean(idle)) if idle else 0.0
    busy = [replace(p, redis_cpu_s_per_s=max(p.redis_cpu_s_per_s - per_node * p.nodes, 0.0)) for p in points]
    terms: tuple[str, ...] = ("commands_per_s",)
    if _distinct([p.commands_per_s for p in points]) >= 2:
        terms += ("fixed",)
    fit = _least_squares(busy, "redis_cpu_s_per_s", terms)
    if fit is None:
        return None
    return Fit((*fit.terms, "nodes"), (*fit.coefficients, per_node), len(points))


def client_fit(points: Sequence[Point]) -> Fit | None:
    """The load generator's CPU per second: per request + fixed (+ per command, where it varies)."""
    if not points:
        return None
    terms: tuple[str, ...] = ("rps",)
    if _distinct([p.rps for p in points]) < 2:
        idle = [p.client_idle_cpu_s_per_s for p in points if p.client_idle_cpu_s_per_s is not None]
        if idle:
            fixed = float(np.mean(idle))
            per_request = float(np.mean([max(p.client_cpu_s_per_s - fixed, 0.0) / p.rps for p in points]))
            return Fit(("rps", "fixed"), (per_request, fixed), len(points))
    else:
        terms += ("fixed",)
    if _distinct([p.commands_per_request for p in points]) >= 2 and len(points) > len(terms):
        terms += ("commands_per_s",)
    return _least_squares(points, "client_cpu_s_per_s", terms)


#: Terms whose coefficient is CPU seconds per second (the others: per command or request).
PER_SECOND = ("fixed", "nodes")
#: How each term reads in a fit's description.
UNITS = {
    "commands_per_s": "per command",
    "nodes": "per node per second",
    "rps": "per request",
    "fixed": "per second",
}
