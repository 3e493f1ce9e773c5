"""Interleaved A/B: is B slower than A, measured in alternation on one machine in one job?

On a shared or cloud machine the level drifts from hour to hour and day to day, so a number from
another day says little (Abedi & Brecht, "Conducting Repeatable Experiments in Highly Variable
Cloud Computing Environments", ICPE 2017: randomized multiple interleaved trials). ``lbbench ab``
runs A and B alternately, in a random order within each round, K rounds. Each round gives one
**paired** log ratio per metric, ln(B / A), so whatever moved the machine during a round moves both.

The rule, per metric with a better direction (analysis/metrics/table.py: latency p50 and p99, client
CPU per request):

- the change is exp(mean of the log ratios) - 1, with a two-sided 95% confidence interval from the
  t distribution with K - 1 degrees of freedom;
- **FAIL** (a regression) when a one-sided paired t-test (``scipy.stats.ttest_1samp`` on the log
  ratios, in the worse direction), its p adjusted by Holm's step-down procedure over every check of
  the A/B, gives p < :data:`ALPHA` **and** the change is at least :data:`MIN_EFFECT` the worse way: a
  sure change too small to matter passes. The adjustment is there because an A/B judges six checks
  (p50, p99 and client CPU of two strategies): unadjusted, an unchanged B would fail one of them in
  up to 26% of gates (1 - 0.95^6) where 5% was meant;
- otherwise PASS; the note carries the change, its interval and p.

Either variant's run that is not valid fails its check outright: it measured the load generator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from analysis import metrics
from analysis.gate.baseline import Measured
from analysis.gate.evaluate import FAIL, PASS, CheckResult
from analysis.metrics import LOWER

#: One-sided significance of the paired test.
ALPHA = 0.05
#: The smallest change called a regression, however sure.
MIN_EFFECT = 0.05
#: Confidence of the interval printed beside each change.
CONFIDENCE = 0.95
MIN_ROUNDS = 3


@dataclass(frozen=True)
class Round:
    """One round's two runs, and which ran first."""

    a: Measured
    b: Measured
    first: str  # "a" or "b"


@dataclass(frozen=True)
class Difference:
    """One metric of one strategy over every round."""

    strategy: str
    metric: str
    better: str
    a_values: list[float]
    b_values: list[float]
    change: float
    low: float
    high: float
    p_value: float  # one-sided, in the worse direction
    invalid: list[str]
    p_adjusted: float = 1.0  # p_value after Holm's adjustment over all the A/B's checks (differences())

    @property
    def regression(self) -> bool:
        worse = self.change >= MIN_EFFECT if self.better == LOWER else self.change <= -MIN_EFFECT
        return bool(self.invalid) or (self.p_adjusted < ALPHA and worse)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the given order: the i-th smallest of m is multiplied
    by m - i + 1, and no adjusted value is below one before it in that order (capped at 1).

    Comparing them with ALPHA keeps the chance of any false FAIL among the m checks at most ALPHA,
    whatever their dependence (Holm, Scand. J. Statistics 1979).
    """
    m = len(p_values)
    adjusted = [1.0] * m
    running = 0.0
    for rank, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def ab_metrics() -> dict[str, tuple[tuple[str, ...], str]]:
    """Metric name -> (its path in a strategy's entry, its better direction): the timings A/B judges."""
    return {
        m.name: (m.path, m.better)
        for m in metrics.METRICS
        if m.better is not None and m.path is not None and m.kind == metrics.TIMING
    }


def _value(run: Measured, strategy: str, path: tuple[str, ...]) -> float | None:
    entry = (run.summary.get("strategies") or {}).get(strategy)
    value = metrics.value_at(entry, path) if entry is not None else None
    return float(value) if isinstance(value, int | float) and math.isfinite(value) and value > 0 else None


def difference(rounds: Sequence[Round], strategy: str, metric: str) -> Difference | None:
    """The paired comparison of one metric (None where a round lacks it)."""
    path, better = ab_metrics()[metric]
    pairs = [(_value(r.a, strategy, path), _value(r.b, strategy, path)) for r in rounds]
    if len(pairs) < MIN_ROUNDS or any(a is None or b is None for a, b in pairs):
        return None
    a_values = [float(a) for a, _ in pairs if a is not None]
    b_values = [float(b) for _, b in pairs if b is not None]
    logs = np.log(np.asarray(b_values) / np.asarray(a_values))
    mean = float(logs.mean())
    spread = float(logs.std(ddof=1)) / math.sqrt(len(logs))
    # Ratios equal to rounding (a counter, or a test's exact shift) have no spread to test against.
    if spread <= 1e-12 * max(abs(mean), 1e-300):
        low = high = mean
        p_value = 0.0 if (mean > 0 if better == LOWER else mean < 0) else 1.0
    else:
        half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, len(logs) - 1)) * spread
        low, high = mean - half, mean + half
        if better == LOWER:
            p_value = float(stats.ttest_1samp(logs, 0.0, alternative="greater").pvalue)
        else:
            p_value = float(stats.ttest_1samp(logs, 0.0, alternative="less").pvalue)
    invalid = [
        f"{side} {run.label}"
        for r in rounds
        for side, run in (("A", r.a), ("B", r.b))
        if ((run.summary.get("strategies") or {}).get(strategy) or {}).get("valid") is False
    ]
    return Difference(
        strategy=strategy,
        metric=metric,
        better=better,
        a_values=a_values,
        b_values=b_values,
        change=math.expm1(mean),
        low=math.expm1(low),
        high=math.expm1(high),
        p_value=p_value,
        invalid=invalid,
        p_adjusted=p_value,  # alone; differences() adjusts over every check
    )


def differences(rounds: Sequence[Round]) -> list[Difference]:
    """Every judged metric of every strategy both variants ran."""
    if len(rounds) < MIN_ROUNDS:
        raise ValueError(f"A/B needs at least {MIN_ROUNDS} rounds, got {len(rounds)}")
    strategies = [
        name
        for name in (rounds[0].a.summary.get("strategies") or {})
        if name in (rounds[0].b.summary.get("strategies") or {})
    ]
    found = []
    for strategy in strategies:
        for metric in ab_metrics():
            diff = difference(rounds, strategy, metric)
            if diff is not None:
                found.append(diff)
    adjusted = holm([d.p_value for d in found])
    return [replace(d, p_adjusted=p) for d, p in zip(found, adjusted, strict=True)]


def describe(diff: Difference) -> str:
    """The change with its interval and p, e.g. ``+12.3% (95% CI +8.1% to +16.6%), p=0.002``."""
    note = (
        f"{diff.change:+.1%} ({CONFIDENCE:.0%} CI {diff.low:+.1%} to {diff.high:+.1%}),"
        f" p={diff.p_value:.2g} (Holm-adjusted {diff.p_adjusted:.2g}), {len(diff.a_values)} rounds"
    )
    return note + (f"; not valid: {', '.join(diff.invalid)}" if diff.invalid else "")


def ab_results(found: Sequence[Difference]) -> list[CheckResult]:
    """Gate rows: one per strategy and metric; FAIL on a regression."""
    return [
        CheckResult(
            check=f"ab: {d.strategy}.{d.metric} of B vs A",
            kind="ab",
            verdict=FAIL if d.regression else PASS,
            current=float(np.median(d.b_values)),
            limit=float(np.median(d.a_values)) * (1 + (MIN_EFFECT if d.better == LOWER else -MIN_EFFECT)),
            baseline=float(np.median(d.a_values)),
            change=d.change,
            cv=None,
            band=None,
            samples=d.b_values,
            baseline_samples=d.a_values,
            note=describe(d),
        )
        for d in found
    ]


RULE = (
    f"paired over rounds: change = exp(mean ln(B/A)) - 1 with its {CONFIDENCE:.0%} t interval; a regression"
    f" when the one-sided paired t-test, Holm-adjusted over all checks, gives p < {ALPHA:g} and the change"
    f" is {MIN_EFFECT:.0%} or more the worse way, or when a run is not valid"
)
