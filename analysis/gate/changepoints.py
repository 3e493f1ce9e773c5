"""Change points in a series of runs: where a metric's level moved, by how much, and how surely.

Pure functions over one series, in the order the runs were made (as Apache Otava's analysis is). Two
steps, each by a library:

1. **Candidates**: ruptures' binary segmentation with the least-squares cost, each segment at least
   :data:`MIN_SEGMENT` runs, penalised by BIC (:func:`_penalty`): a split must pay for itself against
   the series' own noise, estimated robustly from run-to-run differences, so one outlier is no change.
2. **Significance**, the rule the gate applies: a candidate stands when Student's t-test
   (``scipy.stats.ttest_ind``) between the segments either side of it gives p < :data:`ALPHA`. The
   variances are pooled: the model is a level that moved under the same run-to-run noise, and Welch's
   unequal-variance test, with its few degrees of freedom for a 3-run segment, could not see even a
   20% step there. The weakest candidate that fails is merged away and the rest tested again
   against their new neighbours, until every one left stands (Otava's rule too, with its default
   p-value). Two segments without spread (exact counters) differ with p = 0 when their levels differ.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import ruptures
from scipy import stats

#: Fewest runs on either side of a change: a CI job appends its repeats (3) under one commit, so a
#: change can be seen at the commit that made it.
MIN_SEGMENT = 3
#: A change stands at p below this (Otava's default). Each gate tests a few metrics per strategy; the
#: measured false-alarm rate with it is in docs/performance-gate.md.
ALPHA = 0.001


@dataclass(frozen=True)
class ChangePoint:
    """The level moved at ``index`` (the first run of the new level)."""

    index: int
    before_mean: float
    after_mean: float
    p_value: float

    @property
    def change(self) -> float:
        """after / before - 1 (inf when before is 0 and after is not)."""
        if self.before_mean == 0:
            return 0.0 if self.after_mean == 0 else math.inf
        return self.after_mean / self.before_mean - 1


def noise_sigma(values: np.ndarray) -> float:
    """The series' run-to-run standard deviation, robust to the steps it may hold: the median absolute
    deviation of successive differences, scaled to a normal's sigma (x 1.4826 / sqrt 2)."""
    if len(values) < 3:
        return float(np.std(values))
    diffs = np.diff(values)
    return float(np.median(np.abs(diffs - np.median(diffs))) * 1.4826 / math.sqrt(2))


def _penalty(values: np.ndarray) -> float:
    """BIC for one more mean in a Gaussian series: 2 sigma^2 log n (at least a tiny positive number)."""
    sigma = noise_sigma(values)
    return max(2.0 * sigma * sigma * math.log(len(values)), 1e-12)


def _p_value(before: np.ndarray, after: np.ndarray) -> float:
    """Student's t-test between two segments; exact (0 or 1) when neither has any spread."""
    if np.ptp(before) == 0 and np.ptp(after) == 0:
        return 0.0 if before[0] != after[0] else 1.0
    with warnings.catch_warnings():
        # Near-constant segments (a counter that moved once) make scipy warn of lost precision; the
        # p-value it returns is still ~0 or ~1, which is all the rule reads.
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.ttest_ind(before, after, equal_var=True).pvalue)


def _tested(values: np.ndarray, splits: list[int]) -> list[ChangePoint]:
    bounds = [0, *splits, len(values)]
    found = []
    for i, split in enumerate(splits):
        before, after = values[bounds[i] : split], values[split : bounds[i + 2]]
        found.append(ChangePoint(split, float(before.mean()), float(after.mean()), _p_value(before, after)))
    return found


def change_points(
    series: Sequence[float], *, min_segment: int = MIN_SEGMENT, alpha: float = ALPHA
) -> list[ChangePoint]:
    """The significant change points of ``series``, in order (none in a series too short to split)."""
    values = np.asarray(series, dtype=np.float64)
    if len(values) < 2 * min_segment:
        return []
    model = ruptures.Binseg(model="l2", min_size=min_segment, jump=1).fit(values)
    splits = [int(end) for end in model.predict(pen=_penalty(values))][:-1]  # the last end is len(values)
    while splits:
        found = _tested(values, splits)
        weakest = max(found, key=lambda point: point.p_value)
        if weakest.p_value < alpha:
            return found
        splits.remove(weakest.index)
    return []
