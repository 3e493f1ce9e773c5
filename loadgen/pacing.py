"""Open-loop pacing: every request has an intended start time from a fixed schedule.

The swarm's total rate R is split over W load-generator processes by interleaving: slot ``j`` of
process ``w`` is due at ``t0 + (j*W + w) / R``. Taken together the processes' slots are exactly
``t0 + m/R`` for m = 0, 1, 2, ... . Inside a process, users take the next free slot when they are
idle, so a slow request delays nobody's schedule: the slot's intended time stays where it was and
the wait shows up as latency (the correction wrk2 makes for coordinated omission).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    """The slots of one process out of ``workers`` at a total rate of ``rate_per_s``."""

    rate_per_s: float
    workers: int = 1
    worker_index: int = 0

    def __post_init__(self) -> None:
        if self.rate_per_s <= 0:
            raise ValueError(f"rate must be positive, got {self.rate_per_s}")
        if not 0 <= self.worker_index < self.workers:
            raise ValueError(f"worker index {self.worker_index} outside 0..{self.workers - 1}")

    def due_s(self, slot: int) -> float:
        """Seconds after t0 at which ``slot`` is due."""
        return (slot * self.workers + self.worker_index) / self.rate_per_s

    def slots_due(self, elapsed_s: float) -> int:
        """How many slots are due within ``elapsed_s`` seconds (the intended request count)."""
        if elapsed_s < 0:
            return 0
        return max(0, math.floor((elapsed_s * self.rate_per_s - self.worker_index) / self.workers) + 1)


class Pacer:
    """Hands out intended start times (``perf_counter_ns``) slot by slot to whichever user asks."""

    def __init__(self, schedule: Schedule, clock_ns: Callable[[], int] = time.perf_counter_ns) -> None:
        self.schedule = schedule
        self._clock_ns = clock_ns
        self._t0_ns: int | None = None
        self.next_slot = 0

    def start(self) -> None:
        self._t0_ns = self._clock_ns()
        self.next_slot = 0

    def peek(self) -> int:
        """The intended start of the next free slot, left free."""
        if self._t0_ns is None:
            self.start()
        return self._t0_ns + round(self.schedule.due_s(self.next_slot) * 1e9)  # type: ignore[operator]

    def claim(self) -> int:
        """The intended start of the next free slot, taken."""
        intended_ns = self.peek()
        self.next_slot += 1
        return intended_ns

    def due_by(self, at_ns: int) -> int:
        """Slots due at or before ``at_ns`` and not yet taken."""
        if self._t0_ns is None:
            return 0
        return max(0, self.schedule.slots_due((at_ns - self._t0_ns) / 1e9) - self.next_slot)

    def skip(self, slots: int) -> None:
        """Pass over the next ``slots`` slots: nobody sends them."""
        self.next_slot += slots
