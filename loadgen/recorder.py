"""Per-request timings buffered in flat arrays and turned into µs HDR histograms once a second.

Appending three integers costs well under a microsecond; the histograms are built once per
interval with a vectorised bulk insert (a per-value ``record_value`` loop took 1.5 µs a value and
stalled the gevent loop for ~15 ms a second at 10k req/s). Each interval becomes one row of
``intervals.jsonl``.
"""

from __future__ import annotations

import time
from array import array
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from hdrh.histogram import HdrHistogram

from runfiles import HDR_HIGHEST_US, HDR_KINDS, new_histogram


def counts_indexes(histogram: HdrHistogram, values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """HdrHistogram's counts-array index of each value, vectorised (the spec's bucket arithmetic)."""
    magnitude = histogram.unit_magnitude
    half_magnitude = histogram.sub_bucket_half_count_magnitude
    # frexp's exponent is the bit length of each (exactly representable) integer.
    bit_length = np.frexp((values | histogram.sub_bucket_mask).astype(np.float64))[1].astype(np.int64)
    bucket = bit_length - magnitude - (half_magnitude + 1)
    sub_bucket = values >> (bucket + magnitude)
    indexes: npt.NDArray[np.int64] = ((bucket + 1) << half_magnitude) + (
        sub_bucket - histogram.sub_bucket_half_count
    )
    return indexes


def record_bulk(histogram: HdrHistogram, values: npt.NDArray[np.int64]) -> None:
    """Record many values at once: what ``record_value`` does, in a few numpy calls instead of a loop."""
    if values.size == 0:
        return
    values = np.clip(values, 0, HDR_HIGHEST_US)
    counts = np.ctypeslib.as_array(histogram.counts)
    counts += np.bincount(counts_indexes(histogram, values), minlength=histogram.counts_len).astype(
        counts.dtype
    )
    histogram.total_count += int(values.size)
    histogram.min_value = min(histogram.min_value, int(values.min()))
    histogram.max_value = max(histogram.max_value, int(values.max()))


def encode_values(values: array[int]) -> str:
    """Encoded HDR histogram of ``values`` (µs); empty string when there are none."""
    if not values:
        return ""
    histogram = new_histogram()
    record_bulk(histogram, np.frombuffer(values, dtype=np.int64))
    encoded: bytes = histogram.encode()
    return encoded.decode("ascii")


# A slot claimed this long after it was due found every user busy. Not 0: the first slot is due the
# instant the pacer starts, so its claim always comes a few µs "late" with users to spare.
EXHAUSTED_AFTER_NS = 200_000


class IntervalRecorder:
    """Collects one process's reads and writes and cuts them into interval rows."""

    def __init__(self, worker: str) -> None:
        self.worker = worker
        self.errors: Counter[str] = Counter()
        self.totals = Counter[str]()
        self._new_buffers()

    def _new_buffers(self) -> None:
        self._values: dict[str, array[int]] = {kind: array("q") for kind in HDR_KINDS}
        self._counts = Counter[str]()
        self._exhausted = 0
        self._exhausted_first_ns: int | None = None
        self._exhausted_last_ns = 0
        self._in_flight_max = 0
        self._error_kinds = Counter[str]()

    def add_read(
        self,
        intended_ns: int,
        sent_ns: int,
        done_ns: int,
        error: BaseException | None,
        *,
        claimed_ns: int | None = None,
        in_flight: int = 0,
        partial: bool = False,
        fallback: bool = False,
    ) -> None:
        """Record one read; failed reads count, but only successful ones enter latency histograms.

        Args:
            claimed_ns: when a user became free and took the slot (None: at or before ``intended_ns``).
                A slot already due then waited for a user: every user was busy until ``claimed_ns``.
                That wait is the system's (corrected latency carries it); only the rest of the lag,
                from ``max(intended_ns, claimed_ns)`` to the send, is the generator's own.
            in_flight: reads in flight in this process once this one was sent, itself included.
            partial: answered without some shards (counted as a request and as partial).
            fallback: answered, or failed, by the strategy's fallback path (docs/failure-policies.md).
        """
        values = self._values
        lag_us = (sent_ns - intended_ns) // 1000
        values["lag"].append(lag_us)
        if claimed_ns is not None and claimed_ns - intended_ns > EXHAUSTED_AFTER_NS:
            values["gen_lag"].append((sent_ns - claimed_ns) // 1000)
            self._exhausted += 1
            # From when the first such slot was due (all users busy since) to when the last one got a user.
            # Reads complete out of their slots' order (a stall's backlog all at once): min and max.
            if self._exhausted_first_ns is None or intended_ns < self._exhausted_first_ns:
                self._exhausted_first_ns = intended_ns
            self._exhausted_last_ns = max(self._exhausted_last_ns, claimed_ns)
        else:
            values["gen_lag"].append(lag_us)
        self._in_flight_max = max(self._in_flight_max, in_flight)
        if error is None:
            values["corrected"].append((done_ns - intended_ns) // 1000)
            values["raw"].append((done_ns - sent_ns) // 1000)
            self._counts["requests"] += 1
            if partial:
                self._counts["partial"] += 1
        else:
            self._counts["failures"] += 1
            self._error_kinds[type(error).__name__] += 1
            self.errors[f"{type(error).__name__}: {error}"[:200]] += 1
        if fallback:
            self._counts["fallbacks"] += 1

    def add_write(self, sent_ns: int, done_ns: int, error: BaseException | None) -> None:
        if error is None:
            self._values["write"].append((done_ns - sent_ns) // 1000)
            self._counts["writes"] += 1
        else:
            self._counts["write_failures"] += 1
            self.errors[f"write {type(error).__name__}: {error}"[:200]] += 1

    def flush(
        self,
        t_s: float,
        dt_s: float,
        cpu_percent: float,
        between: Callable[[], None] = lambda: None,
        successes: Callable[[array[int]], None] = lambda _: None,
    ) -> dict[str, Any]:
        """The interval row for everything recorded since the last flush, and start a new interval.

        Args:
            between: called after each step that takes a while: Locust's batch, then each histogram's
                encoding. At 25k req/s the five encodings take ~3-6 ms together, and the event loop can
                send the requests due meanwhile if it yields here.
            successes: given the interval's successful reads' corrected latencies (µs), before any
                encoding: Locust's own stats take them as one batch (loadgen/locuststats.py).
        """
        values, counts, kinds = self._values, self._counts, self._error_kinds
        exhausted, first_ns, last_ns = self._exhausted, self._exhausted_first_ns, self._exhausted_last_ns
        in_flight_max = self._in_flight_max
        self._new_buffers()  # the interval is cut here: what is recorded from now on is the next one's
        self.totals.update(counts)
        successes(values["corrected"])
        between()
        # perf_counter instants to the wall clock, with an offset taken now: the drift within a
        # second is far below the millisecond these are reported at.
        epoch_offset_s = time.time() - time.perf_counter_ns() / 1e9
        return {
            "worker": self.worker,
            "t_s": t_s,
            "dt_s": dt_s,
            "requests": counts["requests"],
            "failures": counts["failures"],
            "partial": counts["partial"],
            "fallbacks": counts["fallbacks"],
            "error_kinds": dict(kinds),
            "writes": counts["writes"],
            "write_failures": counts["write_failures"],
            "cpu_percent": cpu_percent,
            "exhausted": exhausted,
            "exhausted_first_s": None if first_ns is None else epoch_offset_s + first_ns / 1e9,
            "exhausted_last_s": None if first_ns is None else epoch_offset_s + last_ns / 1e9,
            "in_flight_max": in_flight_max,
            "hist": {kind: _encode_then(values[kind], between) for kind in HDR_KINDS},
        }


def _encode_then(values: array[int], then: Callable[[], None]) -> str:
    encoded = encode_values(values)
    if values:
        then()
    return encoded
