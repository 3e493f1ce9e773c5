"""Evaluating gate checks on one or more runs against an optional baseline (docs/performance-gate.md)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from analysis import metrics
from analysis.gate import noise
from analysis.gate.baseline import Measured
from analysis.gate.checks import Check, GateInputError, Metric, Operand, parse_check

PASS, FAIL, NO_CHANGE, UNSTABLE = "PASS", "FAIL", "NO CHANGE", "UNSTABLE"
EXIT_PASS, EXIT_REGRESSION, EXIT_BAD_INPUT, EXIT_UNSTABLE = 0, 1, 2, 3
#: --unstable: what a gate whose worst verdict is UNSTABLE exits with. ``exit-3`` lets the caller
#: decide; ``warn`` passes (CI shows a warning); ``fail`` treats noise as a regression.
UNSTABLE_POLICIES = {"exit-3": EXIT_UNSTABLE, "warn": EXIT_PASS, "fail": EXIT_REGRESSION}
NO_CHECKS = (
    "no checks: pass --check EXPR, --config FILE with a [gates] table,"
    " or --baseline FILE to gate on the default checks"
)


def metric_value(metric: Metric, run: Measured) -> float:
    """A metric of one run as a float (booleans as 1/0); GateInputError naming it when absent."""
    head, *rest = metric.parts
    if head == "scenario":
        node: Any = run.summary.get("scenario") or {}
    else:
        strategies: dict[str, Any] = run.summary.get("strategies") or {}
        if head not in strategies:
            known = ", ".join(strategies) or "none"
            raise GateInputError(
                f"unknown metric {metric}: no strategy {head!r} in {run.label} (has {known})"
            )
        node = strategies[head]
    for depth, key in enumerate(rest, 1):
        if node is None:
            where = ".".join(metric.parts[:depth])
            raise GateInputError(f"metric {metric}: {where} is null in {run.label}")
        if not isinstance(node, dict) or key not in node:
            where = ".".join(metric.parts[:depth])
            raise GateInputError(f"unknown metric {metric}: {where} has no {key!r} in {run.label}")
        node = node[key]
    if node is None:
        raise GateInputError(f"metric {metric} is null in {run.label}")
    if isinstance(node, bool):
        return 1.0 if node else 0.0
    if not isinstance(node, int | float) or not math.isfinite(node):
        raise GateInputError(f"metric {metric} is not a number in {run.label}: {node!r}")
    return float(node)


def operand_value(operand: Operand, run: Measured) -> float:
    """A metric, or a ratio of two metrics of the same run."""
    if isinstance(operand, Metric):
        return metric_value(operand, run)
    denominator = metric_value(operand.denominator, run)
    if denominator == 0:
        raise GateInputError(f"{operand} divides by zero in {run.label}")
    return metric_value(operand.numerator, run) / denominator


@dataclass(frozen=True)
class CheckResult:
    """One row of the gate table."""

    check: str
    kind: str  # "exact" or "timing"
    verdict: str
    current: float
    limit: float
    baseline: float | None
    change: float | None  # current / baseline - 1
    cv: float | None  # worst coefficient of variation the timing rule saw
    band: float | None  # noise band of a timing check: max(5%, 2 x cv)
    samples: list[float]
    baseline_samples: list[float]
    note: str


def _limits(check: Check, runs: Sequence[Measured], baseline_value: float | None) -> list[float]:
    """The check's limit in each current run."""
    bound = check.bound
    if bound.kind == "baseline":
        assert baseline_value is not None
        return [bound.apply(baseline_value)] * len(runs)
    if bound.kind == "metric":
        assert bound.metric is not None
        return [bound.apply(metric_value(bound.metric, run)) for run in runs]
    return [bound.apply(bound.number)] * len(runs)


@dataclass(frozen=True)
class _Decision:
    verdict: str
    current: float
    limit: float
    note: str
    cv: float | None = None
    band: float | None = None


def needs(check: Check, limit: float) -> str:
    """What the check asks for in numbers, e.g. ``== 24,209 ±2%``."""
    tolerance = f" ±{check.tolerance * 100:g}%" if check.tolerance is not None else ""
    return f"{check.op} {fmt_value(limit)}{tolerance}"


def _decide_exact(
    check: Check, runs: Sequence[Measured], samples: list[float], limits: list[float]
) -> _Decision:
    """An exact counter must hold in every run; the first run that breaks it is the one shown."""
    for run, value, limit in zip(runs, samples, limits, strict=True):
        if not check.holds(value, limit):
            where = f" in {run.label}" if len(runs) > 1 else ""
            return _Decision(FAIL, value, limit, f"exact; needs {needs(check, limit)}{where}")
    limit = noise.median(limits)
    return _Decision(PASS, noise.median(samples), limit, f"exact; needs {needs(check, limit)}")


def _decide_timing(
    check: Check, samples: list[float], baseline_samples: list[float], limits: list[float]
) -> _Decision:
    """The noise rule (docs/performance-gate.md): medians, a noise band, and a CV test."""
    current, limit = noise.median(samples), noise.median(limits)
    n = f"n={len(samples)}" + (f", baseline n={len(baseline_samples)}" if baseline_samples else "")
    cv = noise.worst_cv(
        noise.coefficient_of_variation(samples),
        noise.coefficient_of_variation(baseline_samples) if check.uses_baseline else None,
    )
    band = noise.noise_band(cv)
    # A baseline check measures the change from the baseline; a threshold check, the distance from
    # its limit. Within the band, noise alone could explain the difference.
    reference, what = (
        (noise.median(baseline_samples), "baseline") if check.uses_baseline else (limit, "limit")
    )
    within = noise.within_band(current, reference, band)
    if cv is not None and cv > noise.MAX_CV and within:
        note = f"CV {cv:.1%} > {noise.MAX_CV:.0%}, within ±{band:.1%} of the {what} ({n})"
        return _Decision(UNSTABLE, current, limit, note, cv, band)
    if check.uses_baseline and within:
        return _Decision(NO_CHANGE, current, limit, f"within noise band ±{band:.1%} ({n})", cv, band)
    verdict = PASS if check.holds(current, limit) else FAIL
    return _Decision(verdict, current, limit, f"median; needs {needs(check, limit)} ({n})", cv, band)


def evaluate_check(check: Check, runs: Sequence[Measured], reference: Sequence[Measured]) -> CheckResult:
    """Decide one check: exact counters in every run; timings by the noise rule."""
    if check.uses_baseline and not reference:
        raise GateInputError(f"check {check.text!r} compares with the baseline: pass --baseline FILE")
    samples = [operand_value(check.operand, run) for run in runs]
    baseline_samples = _baseline_samples(check, reference)
    baseline_value = noise.median(baseline_samples) if baseline_samples else None
    limits = _limits(check, runs, baseline_value)
    if check.exact:
        decision = _decide_exact(check, runs, samples, limits)
    else:
        decision = _decide_timing(check, samples, baseline_samples, limits)
    change = noise.relative_change(decision.current, baseline_value) if baseline_value is not None else None
    return CheckResult(
        check=check.text,
        kind="exact" if check.exact else "timing",
        verdict=decision.verdict,
        current=decision.current,
        limit=decision.limit,
        baseline=baseline_value,
        change=change,
        cv=decision.cv,
        band=decision.band,
        samples=samples,
        baseline_samples=baseline_samples,
        note=decision.note,
    )


def _baseline_samples(check: Check, reference: Sequence[Measured]) -> list[float]:
    """The operand in every baseline run; only a check that needs the baseline insists on it."""
    try:
        return [operand_value(check.operand, run) for run in reference]
    except GateInputError:
        if check.uses_baseline:
            raise
        return []


@dataclass(frozen=True)
class GateResult:
    """Every check's row, and the overall verdict and exit code."""

    results: list[CheckResult]

    @property
    def verdict(self) -> str:
        """FAIL if any check failed, else UNSTABLE if any was too noisy, else PASS."""
        verdicts = {r.verdict for r in self.results}
        return FAIL if FAIL in verdicts else UNSTABLE if UNSTABLE in verdicts else PASS

    def exit_for(self, unstable: str = "exit-3") -> int:
        """0 pass (NO CHANGE passes), 1 regression; UNSTABLE as ``unstable`` says (:data:`UNSTABLE_POLICIES`):
        3 by default."""
        if self.verdict == UNSTABLE:
            return UNSTABLE_POLICIES[unstable]
        return EXIT_REGRESSION if self.verdict == FAIL else EXIT_PASS

    def rows(self) -> list[dict[str, Any]]:
        """The results as JSON-ready dicts."""
        return [asdict(r) for r in self.results]


def evaluate(checks: Sequence[Check], runs: Sequence[Measured], reference: Sequence[Measured]) -> GateResult:
    """Evaluate every check; GateInputError on the first unknown metric or missing baseline."""
    if not checks:
        raise GateInputError(NO_CHECKS)
    return GateResult([evaluate_check(check, runs, reference) for check in checks])


def _measured_in_all(operand: Operand, runs: Sequence[Measured]) -> bool:
    """Whether every run has the operand as a number (not absent, not null)."""
    try:
        for run in runs:
            operand_value(operand, run)
    except GateInputError:
        return False
    return True


def default_checks(runs: Sequence[Measured], reference: Sequence[Measured]) -> list[Check]:
    """The metric table's default checks on every strategy of the runs, against the baseline.

    A metric with a better direction (the default timings; valid, agree, failures) must not move the
    other way, every other exact counter must equal the baseline within its tolerance; a metric some
    run or baseline run lacks (a strategy not in the baseline, a null refresher section) is left out.
    """
    strategies: dict[str, Any] = runs[0].summary.get("strategies") or {}
    checks = [parse_check(text) for strategy in strategies for text in metrics.default_checks(strategy)]
    return [check for check in checks if _measured_in_all(check.operand, [*runs, *reference])]


def fmt_value(value: float | None) -> str:
    """A figure for the table: thousands separators, up to 6 significant digits."""
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 1e6 else f"{value:,.6g}"


def fmt_change(change: float | None) -> str:
    """A relative change as a signed percentage."""
    return "n/a" if change is None else f"{change:+.1%}"
