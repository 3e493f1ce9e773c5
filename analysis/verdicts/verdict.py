"""A seed claim judged: what the claim says, what this run measured, and the verdict it gets."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    """Outcome of checking one seed claim against this run."""

    HOLDS = "holds"
    DOES_NOT_HOLD = "does not hold"
    HOLDS_ONLY_IF = "holds only if"
    NOT_MEASURABLE = "not measurable here"


@dataclass(frozen=True)
class Claim:
    """One seed claim next to what this run measured; ``key`` is its letter (a-h, then i-u)."""

    key: str
    claim: str
    measured: str
    projected: str
    verdict: Verdict
    reason: str
