"""The noise rule for timing metrics over repeated runs (docs/performance-gate.md).

A timing check takes the median over K repeats (and over the baseline's runs). It is UNSTABLE when
the worst CV exceeds MAX_CV *and* the median lies within the noise band of what it is compared
with (the baseline, or a threshold's limit): noise could then explain the result. A baseline check
whose change lies within the band is NO CHANGE. Anything else is decided on the medians.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

# Redis's performance CI: changes under the band are "no change", and a series whose coefficient of
# variation exceeds 10% is too noisy to decide. The band widens with the measured noise so that a
# change must stand out from it by about two standard deviations.
MIN_NOISE_BAND = 0.05
CV_BAND_FACTOR = 2.0
MAX_CV = 0.10


def median(values: Sequence[float]) -> float:
    """Median of a non-empty series (the figure a repeated metric is judged on)."""
    return float(statistics.median(values))


def coefficient_of_variation(values: Sequence[float]) -> float | None:
    """Sample standard deviation over |mean|; None for fewer than two values (noise unknown)."""
    if len(values) < 2:
        return None
    mean = statistics.fmean(values)
    stdev = statistics.stdev(values)
    if mean == 0:
        return 0.0 if stdev == 0 else math.inf
    return stdev / abs(mean)


def worst_cv(*cvs: float | None) -> float | None:
    """The largest known coefficient of variation, None when none is known."""
    known = [cv for cv in cvs if cv is not None]
    return max(known) if known else None


def noise_band(cv: float | None) -> float:
    """Relative change below which current and baseline cannot be told apart: max(5%, 2 x CV)."""
    return max(MIN_NOISE_BAND, CV_BAND_FACTOR * cv) if cv is not None else MIN_NOISE_BAND


def within_band(value: float, reference: float, band: float) -> bool:
    """Whether value lies within ±band (relative) of reference; a zero reference needs an equal value."""
    return abs(value - reference) <= band * abs(reference)


def relative_change(current: float, baseline: float) -> float | None:
    """current / baseline - 1; None when the baseline is 0."""
    return current / baseline - 1.0 if baseline else None
