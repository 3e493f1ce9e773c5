"""Gate checks: one-line expressions over summary.json parsed into small frozen objects.

Grammar (docs/performance-gate.md)::

    check   := operand OP bound [("±" | "+-") NUMBER "%"]      tolerance only with ==
    operand := METRIC | "ratio(" METRIC "," METRIC ")"
    bound   := ("baseline" | METRIC | NUMBER) [("*" | "+" | "-") NUMBER]
    OP      := "==" | "!=" | "<" | "<=" | ">" | ">="
    METRIC  := "scenario.<key>" | "<strategy>.<key>[.<key>...]"
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from analysis import metrics

# Counters that do not depend on machine noise: gated exactly (or within a stated tolerance), never
# through the noise rule. Everything else (latencies, CPU, rates) is a timing metric. A metric is
# exact when the last key of its path is one of these: the exact rows of the metric table.
EXACT_KEYS = metrics.exact_leaf_keys()
# `==` without a tolerance still forgives float rounding (values are stored rounded to 4 decimals).
FLOAT_EPSILON = 1e-9

_NUMBER = r"[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_METRIC = r"[A-Za-z_][\w-]*(?:\.[\w-]+)+"
_CHECK = re.compile(
    rf"""^\s*
    (?:ratio\(\s*(?P<num>{_METRIC})\s*,\s*(?P<den>{_METRIC})\s*\)|(?P<metric>{_METRIC}))
    \s*(?P<op><=|>=|==|!=|<|>)\s*
    (?P<term>baseline|{_METRIC}|{_NUMBER})
    (?:\s*(?P<arith>[*+-])\s*(?P<arg>{_NUMBER}))?
    (?:\s*(?:±|\+-)\s*(?P<tol>{_NUMBER})\s*%)?
    \s*$""",
    re.VERBOSE,
)
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
EXPECTED = (
    "expected METRIC OP BOUND, e.g. 'cached.redis_commands_per_request == 1',"
    " 'naive.bytes_out_per_request <= baseline * 1.05' or"
    " 'ratio(naive.latency_us.p50, cached.latency_us.p50) >= 3'"
)


class GateInputError(ValueError):
    """A malformed check, an unknown metric or an unusable file: one line, exit code 2."""


@dataclass(frozen=True)
class Metric:
    """A path into summary.json: ``scenario.<key>`` or ``<strategy>.<key>[.<key>...]``."""

    parts: tuple[str, ...]

    def __str__(self) -> str:
        return ".".join(self.parts)

    @property
    def exact(self) -> bool:
        """Whether the metric is an exact counter rather than a timing."""
        return self.parts[0] == "scenario" or self.parts[-1] in EXACT_KEYS


@dataclass(frozen=True)
class Ratio:
    """numerator / denominator, both taken from the same run."""

    numerator: Metric
    denominator: Metric

    def __str__(self) -> str:
        return f"ratio({self.numerator}, {self.denominator})"

    @property
    def exact(self) -> bool:
        """A ratio of exact counters is exact."""
        return self.numerator.exact and self.denominator.exact


Operand = Metric | Ratio


@dataclass(frozen=True)
class Bound:
    """The right-hand side: a number, the baseline's value of the operand, or a metric of the same run."""

    kind: Literal["number", "baseline", "metric"]
    number: float = 0.0
    metric: Metric | None = None
    scale: float = 1.0
    offset: float = 0.0

    def apply(self, value: float) -> float:
        """The limit for a base value (the number, baseline median or metric)."""
        return value * self.scale + self.offset


@dataclass(frozen=True)
class Check:
    """One parsed gate check."""

    text: str
    operand: Operand
    op: str
    bound: Bound
    tolerance: float | None = None  # fraction of the bound, only with ==

    @property
    def exact(self) -> bool:
        """Exact checks are decided without the noise rule."""
        bound_exact = self.bound.metric is None or self.bound.metric.exact
        return self.operand.exact and bound_exact

    @property
    def uses_baseline(self) -> bool:
        """Whether the check needs --baseline."""
        return self.bound.kind == "baseline"

    def holds(self, value: float, limit: float) -> bool:
        """Whether ``value OP limit`` is true (== within the tolerance, or float rounding)."""
        if self.op in ("==", "!="):
            slack = abs(limit) * self.tolerance if self.tolerance is not None else 0.0
            slack = max(slack, FLOAT_EPSILON * max(1.0, abs(limit)))
            equal = abs(value - limit) <= slack
            return equal if self.op == "==" else not equal
        return _COMPARE[self.op](value, limit)


def _number(text: str) -> float:
    value = float(text.replace("_", ""))
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _metric(text: str) -> Metric:
    return Metric(tuple(text.split(".")))


def parse_check(text: str) -> Check:
    """Parse one check; GateInputError (one line) when it does not follow the grammar."""
    match = _CHECK.match(text)
    if match is None:
        raise GateInputError(f"malformed check {text.strip()!r}: {EXPECTED}")
    operand: Operand = (
        _metric(match["metric"]) if match["metric"] else Ratio(_metric(match["num"]), _metric(match["den"]))
    )
    term, arith, arg = match["term"], match["arith"], match["arg"]
    scale, offset = 1.0, 0.0
    if arith:
        value = _number(arg)
        scale, offset = (value, 0.0) if arith == "*" else (1.0, value if arith == "+" else -value)
    if term == "baseline":
        bound = Bound("baseline", scale=scale, offset=offset)
    elif re.fullmatch(_NUMBER, term):
        bound = Bound("number", number=_number(term), scale=scale, offset=offset)
    else:
        bound = Bound("metric", metric=_metric(term), scale=scale, offset=offset)
    tolerance = None
    if match["tol"] is not None:
        if match["op"] not in ("==", "!="):
            raise GateInputError(f"malformed check {text.strip()!r}: a ± tolerance needs == or !=")
        tolerance = _number(match["tol"]) / 100
    return Check(" ".join(text.split()), operand, match["op"], bound, tolerance)


def parse_checks(texts: Sequence[str]) -> list[Check]:
    """Parse every check, failing on the first malformed one."""
    return [parse_check(text) for text in texts]
