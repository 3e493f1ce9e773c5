"""The verdict a seed claim gets (analysis.claims, analysis.tradeoffs, analysis.capacityclaims)."""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    """Outcome of checking one seed claim against this run."""

    HOLDS = "holds"
    DOES_NOT_HOLD = "does not hold"
    HOLDS_ONLY_IF = "holds only if"
    NOT_MEASURABLE = "not measurable here"
