"""Pacing math and HDR recording in the load generator (pure code, no Locust run)."""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np
import pytest
from hdrh.histogram import HdrHistogram

from loadgen.pacing import Pacer, Schedule
from loadgen.recorder import IntervalRecorder, encode_values, record_bulk
from runfiles import HDR_HIGHEST_US as HIGHEST_US
from runfiles import new_histogram


@pytest.mark.parametrize(("rate", "workers"), [(1000.0, 1), (10_000.0, 2), (333.0, 3), (7.0, 5)])
def test_interleaved_worker_schedules_are_exactly_the_total_rate(rate: float, workers: int) -> None:
    per_worker = [Schedule(rate, workers, w) for w in range(workers)]
    slots = 200
    due = sorted(s.due_s(j) for s in per_worker for j in range(slots))
    assert due == pytest.approx([m / rate for m in range(slots * workers)], abs=1e-12)
    assert sum(s.rate_per_s / s.workers for s in per_worker) == pytest.approx(rate)


def test_slots_due_counts_every_slot_at_or_before_the_time() -> None:
    schedule = Schedule(100.0, workers=2, worker_index=1)
    for elapsed_s in (0.0, 0.004, 0.01, 0.015, 1.0, 10.0):
        expected = sum(1 for j in range(10_000) if schedule.due_s(j) <= elapsed_s + 1e-12)
        assert schedule.slots_due(elapsed_s) == expected
    assert schedule.slots_due(-1.0) == 0


def test_bad_schedules_are_refused() -> None:
    with pytest.raises(ValueError, match="rate"):
        Schedule(0.0)
    with pytest.raises(ValueError, match="worker index"):
        Schedule(10.0, workers=2, worker_index=2)


def test_pacer_hands_out_slots_in_order_from_its_clock() -> None:
    now = [5_000_000_000]
    pacer = Pacer(Schedule(1000.0, workers=2, worker_index=1), clock_ns=lambda: now[0])
    first = [pacer.claim() for _ in range(3)]
    # 2 workers at 1000 req/s: this worker's slots are 2 ms apart, offset by 1 ms.
    assert [t - now[0] for t in first] == [1_000_000, 3_000_000, 5_000_000]
    now[0] += 4_000_000
    assert pacer.schedule.slots_due((now[0] - 5_000_000_000) / 1e9) == 2


def test_bulk_recording_equals_value_by_value_recording() -> None:
    rng = np.random.default_rng(7)
    values = np.concatenate([
        rng.integers(0, 5000, 50_000),
        rng.lognormal(8, 2.5, 50_000).astype(np.int64),
        np.array([0, 1, 2047, 2048, HIGHEST_US - 1, HIGHEST_US + 10]),
    ])  # fmt: skip
    one_by_one = new_histogram()
    for value in np.clip(values, 0, HIGHEST_US).tolist():
        one_by_one.record_value(value)
    bulk = new_histogram()
    record_bulk(bulk, values)
    assert bulk.encode() == one_by_one.encode()
    assert bulk.get_total_count() == values.size
    assert bulk.get_max_value() == one_by_one.get_max_value()
    assert bulk.get_min_value() == 0


def test_encoded_interval_decodes_to_the_recorded_values() -> None:
    encoded = encode_values(array("q", [100, 200, 300, 400]))
    histogram = HdrHistogram.decode(encoded)
    assert histogram.get_total_count() == 4
    assert histogram.get_value_at_percentile(50) == 200
    assert encode_values(array("q")) == ""


def test_interval_recorder_splits_corrected_raw_and_lag() -> None:
    recorder = IntervalRecorder("w0")
    # intended at 0, sent 2 ms late, done 0.5 ms after sending.
    recorder.add_read(0, 2_000_000, 2_500_000, None)
    recorder.add_read(0, 0, 1_000, ConnectionError("down"))
    recorder.add_write(0, 700_000, None)
    row = recorder.flush(t_s=100.0, dt_s=1.0, cpu_percent=12.5)
    assert (row["requests"], row["failures"], row["writes"]) == (1, 1, 1)
    decoded = {kind: HdrHistogram.decode(v) for kind, v in row["hist"].items() if v}
    assert decoded["corrected"].get_max_value() == pytest.approx(2500, rel=1e-3)
    assert decoded["raw"].get_max_value() == pytest.approx(500, rel=1e-3)
    # Lag is recorded for failed reads too: both reads' send delays are there.
    assert decoded["lag"].get_total_count() == 2
    assert decoded["write"].get_max_value() == pytest.approx(700, rel=1e-3)
    assert recorder.errors == {"ConnectionError: down": 1}
    assert recorder.flush(101.0, 1.0, 0.0)["requests"] == 0
    assert recorder.totals["requests"] == 1


def _holds(row: dict[str, Any], kind: str, values_us: list[int]) -> bool:
    """Whether an interval row's histogram of ``kind`` holds exactly these µs values."""
    return bool(row["hist"][kind] == encode_values(array("q", values_us)))


def test_lag_splits_into_users_exhausted_and_the_generators_own() -> None:
    ms = 1_000_000
    recorder = IntervalRecorder("w0")
    # Due at 10 ms, but every user was busy until 810 ms; sent 0.3 ms after a user took it.
    recorder.add_read(10 * ms, 810 * ms + 300_000, 811 * ms, None, claimed_ns=810 * ms, in_flight=20)
    # Taken 5 ms early by a free user that then woke 4 ms late: all the generator's.
    recorder.add_read(900 * ms, 904 * ms, 905 * ms, None, claimed_ns=895 * ms, in_flight=3)
    # Closed loop and callers that know no claim: the whole lag is the generator's.
    recorder.add_read(0, 2 * ms, 3 * ms, None)
    row = recorder.flush(t_s=100.0, dt_s=1.0, cpu_percent=8.8)
    assert _holds(row, "lag", [800_300, 4000, 2000])
    assert _holds(row, "gen_lag", [300, 4000, 2000])
    assert row["exhausted"] == 1
    assert row["in_flight_max"] == 20
    # On the wall clock: due at 10 ms, given a user at 810 ms.
    assert row["exhausted_last_s"] - row["exhausted_first_s"] == pytest.approx(0.8, abs=1e-6)
    empty = recorder.flush(t_s=101.0, dt_s=1.0, cpu_percent=0.0)
    assert (empty["exhausted"], empty["exhausted_first_s"], empty["in_flight_max"]) == (0, None, 0)
