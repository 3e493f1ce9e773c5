"""Sampled reply times: per shard socket for the naive fan-out, send to reply for a cached read.

One request in ``SAMPLE_EVERY`` per user is timed socket by socket, so the hot path pays a counter
and nothing else. The network model (analysis/figures/netmodel.py) composes these measured parts with a
round-trip-time distribution; the load generator drains them into each interval row.
"""

from __future__ import annotations

from typing import Any

from runfiles import REPLY_SAMPLE_FIELDS

SAMPLE_EVERY = 100


class ReplyTimes:
    """One process's sampled timings since the last ``drain`` (µs; lists, one entry per sampled read)."""

    def __init__(self, sample_every: int = SAMPLE_EVERY) -> None:
        self.sample_every = sample_every
        self._starts = 0
        self._new()

    def first_countdown(self) -> int:
        """Reads until a new user's first sample: spread over the users, so that a process samples
        about one read in ``sample_every`` even when each user makes fewer than that."""
        self._starts += 1
        return 1 + (self._starts * 37) % self.sample_every

    def _new(self) -> None:
        self.shard_send_us: list[list[float]] = []
        self.shard_reply_us: list[list[float]] = []
        self.merge_us: list[float] = []
        self.service_us: list[float] = []

    def add_scatter(self, clock: list[int], merged_ns: int) -> None:
        """One timed fan-out: ``clock`` is [start, send_0..send_n-1, reply_0..reply_n-1] (perf ns)."""
        n = (len(clock) - 1) // 2
        start = clock[0]
        self.shard_send_us.append([round((clock[1 + i] - start) / 1000, 1) for i in range(n)])
        self.shard_reply_us.append([round((clock[1 + n + i] - clock[1 + i]) / 1000, 1) for i in range(n)])
        self.merge_us.append(round((merged_ns - clock[-1]) / 1000, 1))

    def add_service(self, sent_ns: int, done_ns: int) -> None:
        self.service_us.append(round((done_ns - sent_ns) / 1000, 1))

    def drain(self) -> dict[str, Any]:
        """Everything since the last drain, keyed as the interval row's fields, and start afresh."""
        values = (self.shard_send_us, self.shard_reply_us, self.merge_us, self.service_us)
        row = dict(zip(REPLY_SAMPLE_FIELDS, values, strict=True))
        self._new()
        return row
