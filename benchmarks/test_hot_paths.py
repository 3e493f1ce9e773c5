"""pytest-benchmark suite for the per-request hot paths (run with `make bench`; not part of `make test`).

Each benchmark handles BATCH requests per round, so per-request cost = reported time / BATCH.
"""

from __future__ import annotations

import random
import time

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from bench.wire.merge import merge_top
from loadgen.pacing import Pacer, Schedule
from loadgen.recorder import IntervalRecorder

BATCH = 10_000


def record_one_second(recorder: IntervalRecorder, starts_ns: list[int]) -> None:
    """What one process does for 10k requests: three timestamps recorded each, then one flush."""
    for intended_ns in starts_ns:
        recorder.add_read(intended_ns, intended_ns + 40_000, intended_ns + 250_000, None)
    recorder.flush(t_s=0.0, dt_s=1.0, cpu_percent=0.0)


def test_latency_recording_per_request(benchmark: BenchmarkFixture) -> None:
    rng = random.Random(1)
    starts_ns = [rng.randrange(10**9) for _ in range(BATCH)]
    recorder = IntervalRecorder("bench")
    benchmark.extra_info["requests_per_round"] = BATCH
    benchmark(record_one_second, recorder, starts_ns)
    per_request_us = benchmark.stats.stats.mean / BATCH * 1e6
    benchmark.extra_info["us_per_request"] = round(per_request_us, 3)


def test_pacer_claim_per_request(benchmark: BenchmarkFixture) -> None:
    pacer = Pacer(Schedule(10_000.0, workers=2, worker_index=1), clock_ns=time.perf_counter_ns)

    def claim_batch() -> None:
        for _ in range(BATCH):
            pacer.claim()

    benchmark(claim_batch)
    benchmark.extra_info["us_per_request"] = round(benchmark.stats.stats.mean / BATCH * 1e6, 3)


@pytest.mark.parametrize("top_n", [100, 1000])
def test_merge_ten_shards(benchmark: BenchmarkFixture, top_n: int) -> None:
    rng = random.Random(2)
    replies = []
    for _ in range(10):
        rows = sorted(
            ((rng.randrange(10**8), str(rng.randrange(10**7)).encode()) for _ in range(top_n)), reverse=True
        )
        replies.append([part for score, member in rows for part in (member, str(score).encode())])
    result = benchmark(merge_top, replies, top_n)
    assert len(result) == top_n
