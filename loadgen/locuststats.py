"""Locust's own statistics (its console table, CSVs and web UI), fed once per interval, not per read.

Firing Locust's request event for every read cost 6.5 µs of client CPU per read (timeit, Locust
2.47: EventHook.fire, then StatsEntry.log for the entry and the total); a batch costs 0.1 µs per
read. The harness measures with its own histograms (loadgen/recorder.py), so Locust gets each
interval's successful reads as one batch, merged the way a Locust master merges its workers' reports
(``StatsEntry.extend``). Failures still go one by one: they are rare, and carry their error.
"""

from __future__ import annotations

import time
from array import array

import numpy as np
from locust.stats import RequestStats, StatsEntry

METHOD = "redis"  # the request_type every harness request reports under


def _buckets(ms: np.ndarray) -> np.ndarray:
    """Locust's response-time buckets (``locust.stats.bucket_response_time``) for many at once:
    whole ms below 100, then two significant digits."""
    rounded = np.round(ms)
    for limit, decimals in ((100, -1), (1000, -2), (10000, -3)):
        at_least = ms >= limit
        rounded[at_least] = np.round(ms[at_least], decimals)
    return rounded.astype(np.int64)


def log_batch(stats: RequestStats, name: str, latency_us: array[int]) -> None:
    """Add ``latency_us`` (one interval's successful requests, µs) to Locust's stats for ``name``."""
    if not latency_us:
        return
    ms = np.frombuffer(latency_us, dtype=np.int64) / 1000.0
    now = time.time()
    batch = StatsEntry(stats, name, METHOD)
    batch.num_requests = len(ms)
    batch.num_reqs_per_sec[int(now)] = len(ms)
    batch.last_request_timestamp = now
    batch.total_response_time = float(ms.sum())  # type: ignore[assignment] # Locust sums floats too
    batch.min_response_time = float(ms.min())  # type: ignore[assignment] # as above
    batch.max_response_time = float(ms.max())  # type: ignore[assignment] # as above
    keys, counts = np.unique(_buckets(ms), return_counts=True)
    batch.response_times.update(zip(keys.tolist(), counts.tolist(), strict=True))
    stats.get(name, METHOD).extend(batch)
    stats.total.extend(batch)
