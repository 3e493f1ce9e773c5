"""A pool of users that grows when a due slot finds every user busy (k6's preAllocatedVUs/maxVUs).

A process starts with its share of ``--users``. When a slot is overdue and no user is free to take
it, the pool adds users, as many as the slots then overdue and at most doubling, up to its share of
``--max-users``. New users connect in their ``on_start``, off the hot path: the overdue slots go to
whichever user comes free first, old or new, and their wait stays in corrected latency. Only one
batch is on its way at a time, so a stalled server cannot make the pool balloon by itself.
At the limit, an overdue slot no user can take is dropped: not sent, counted (k6's
``dropped_iterations``), and the phase is not valid (analysis/figures/summary.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Growth:
    """The pool grew from ``before`` to ``after`` users at ``t_s`` (epoch s), with ``in_flight`` reads out."""

    t_s: float
    before: int
    after: int
    in_flight: int

    def to_json(self) -> list[float | int]:
        return [round(self.t_s, 6), self.before, self.after, self.in_flight]


@dataclass
class UserPool:
    """One process's users: how many, how many more it may start, and when it started them.

    Args:
        max_size: this process's share of ``--max-users``.
        spawn: starts ``n`` more users (Locust's ``runner.spawn_users``); each calls ``joined()`` once
            connected, or once it failed to connect.
    """

    max_size: int
    spawn: Callable[[int], None]
    start: int = 0
    size: int = 0
    pending: int = 0  # started, not yet connected
    growths: list[Growth] = field(default_factory=list)

    def started(self, users: int) -> None:
        """Locust spawned the first ``users``: the pool's starting size."""
        self.start = self.size = users
        self.max_size = max(self.max_size, users)

    def starved(self, overdue: int, in_flight: int) -> bool:
        """``overdue`` slots found no free user: grow if the pool may. False: at its limit (drop them)."""
        if self.pending:
            return True  # users on their way will take them
        room = self.max_size - self.size
        if room <= 0:
            return False
        added = min(max(overdue, 1), self.size, room)
        self.growths.append(Growth(time.time(), self.size, self.size + added, in_flight))
        self.size += added
        self.pending += added
        self.spawn(added)
        return True

    def joined(self) -> None:
        """One of the users started by a growth is connected (or gave up)."""
        self.pending = max(0, self.pending - 1)

    def take_growths(self) -> list[Growth]:
        """The growths since the last call (an interval row carries them)."""
        taken, self.growths = self.growths, []
        return taken


def share(total: int, index: int, processes: int) -> int:
    """Process ``index``'s share of ``total`` users over ``processes`` (the first ones get the rest)."""
    return total // processes + (1 if index < total % processes else 0)
