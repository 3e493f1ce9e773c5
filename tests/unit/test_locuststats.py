"""Locust's own stats fed once per interval (loadgen/locuststats.py) say what per-read events said.

Run in a fresh interpreter: importing locust patches gevent into the process, which must come before
anything imports ssl, as it does in a load process and not in a test session.
"""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import REPO

CHECK = """
import random
from array import array

from locust.stats import RequestStats

from loadgen.locuststats import METHOD, log_batch

NAME = "naive.top100"
rng = random.Random(7)
# Around every bucket edge (99.5 ms, 100, 995, 9,950 ...) and the usual sub-ms to seconds spread.
latency_us = [rng.randrange(50, 30_000_000) for _ in range(5000)]
latency_us += [99_500, 100_000, 104_999, 105_000, 995_000, 9_950_000, 500, 1_500, 2_500]
one_by_one, batched = RequestStats(), RequestStats()
for us in latency_us:
    one_by_one.log_request(METHOD, NAME, us / 1000, 0)
log_batch(batched, NAME, array("q", latency_us[:3000]))
log_batch(batched, NAME, array("q", latency_us[3000:]))
log_batch(batched, NAME, array("q"))  # an interval without a success changes nothing
for stats in (one_by_one, batched):
    assert stats.get(NAME, METHOD).num_requests == len(latency_us)
    assert stats.total.num_requests == len(latency_us)
want, got = one_by_one.get(NAME, METHOD), batched.get(NAME, METHOD)
assert dict(got.response_times) == dict(want.response_times)
assert abs(got.total_response_time - want.total_response_time) < 1e-6 * want.total_response_time
assert (got.min_response_time, got.max_response_time) == (want.min_response_time, want.max_response_time)
assert got.get_response_time_percentile(0.99) == want.get_response_time_percentile(0.99)
assert sum(got.num_reqs_per_sec.values()) == len(latency_us)
print("same")
"""


def test_a_batch_gives_locust_the_stats_one_event_per_read_would() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "same"
