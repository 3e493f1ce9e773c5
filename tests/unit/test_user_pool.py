"""The pool of users: how it grows (loadgen/pool.py) and how a run's growths are read (analysis)."""

from __future__ import annotations

from array import array
from typing import Any

import pytest

from analysis.figures.userpool import (
    RATE,
    REPLIES_SLOWED,
    dropped_reason,
    growth_line,
    pool_timeline,
    slowed_at,
    user_pool,
)
from loadgen.pool import UserPool, share
from loadgen.recorder import encode_values
from runfiles.summary import Percentiles
from runfiles.summary import UserPool as UserPoolSummary
from runfiles.typed import from_json


def test_a_starved_pool_grows_by_the_backlog_at_most_doubling_one_batch_at_a_time() -> None:
    spawned: list[int] = []
    pool = UserPool(100, spawned.append)
    pool.started(20)
    assert pool.starved(overdue=3, in_flight=20)
    assert (pool.size, pool.pending, spawned) == (23, 3, [3])
    assert pool.starved(overdue=50, in_flight=23)  # a batch is on its way: nothing more yet
    assert spawned == [3]
    for _ in range(3):
        pool.joined()
    assert pool.starved(overdue=500, in_flight=23)
    assert spawned == [3, 23]  # doubling at most
    for _ in range(23):
        pool.joined()
    pool.starved(overdue=500, in_flight=46)
    assert pool.size == 92
    for _ in range(46):
        pool.joined()
    pool.starved(overdue=500, in_flight=92)
    assert pool.size == 100  # up to the limit
    for _ in range(8):
        pool.joined()
    assert not pool.starved(overdue=1, in_flight=100)  # at the limit: the caller drops the slots
    assert [(g.before, g.after) for g in pool.take_growths()] == [(20, 23), (23, 46), (46, 92), (92, 100)]
    assert pool.take_growths() == []


def test_a_limit_below_the_start_is_the_start_and_the_shares_add_up() -> None:
    pool = UserPool(5, lambda _: None)
    pool.started(20)
    assert pool.max_size == 20
    assert not pool.starved(overdue=1, in_flight=20)
    assert [share(601, index, 4) for index in range(4)] == [151, 150, 150, 150]


def test_the_swarms_pool_is_the_sum_of_its_processes_in_time_order() -> None:
    timeline = pool_timeline(20, [(5.0, 10, 20, 9), (1.0, 10, 15, 9), (2.0, 15, 30, 14)])
    assert timeline == [(1.0, 20, 25), (2.0, 25, 40), (5.0, 40, 50)]


PHASE_US = {"p50": 1000.0, "p99": 4000.0}


def _row(t_s: float, worker: str, grew: list[list[float]], reply_us: int, dropped: int = 0) -> dict[str, Any]:
    return {
        "worker": worker,
        "t_s": t_s,
        "grew": grew,
        "dropped": dropped,
        "in_flight_max": 30,
        "hist": {"raw": encode_values(array("q", [reply_us] * 100))},
    }


def _pool(records: list[dict[str, Any]]) -> dict[str, Any]:
    workers = [
        {"users_start": 10, "users_end": 40, "max_users": 300},
        {"users_start": 10, "users_end": 20, "max_users": 300},
    ]
    pool = user_pool(records, workers, load_start_s=100.0, attempts=990, replies_us=PHASE_US)
    assert pool is not None
    return pool


def test_growth_at_the_start_is_the_rate_and_growth_in_slow_seconds_is_the_system() -> None:
    records = [
        _row(100.0, "w0", [[100.2, 10, 20, 10], [100.5, 20, 40, 20]], reply_us=1000),
        _row(100.0, "w1", [[100.3, 10, 20, 10]], reply_us=1000),
        *(_row(float(t), "w0", [], reply_us=1000) for t in range(101, 110)),
        _row(110.0, "w0", [[110.4, 40, 80, 40]], reply_us=900_000, dropped=10),
    ]
    pool = _pool(records)
    assert (pool["start"], pool["end"], pool["max"]) == (20, 60, 600)
    start, stall = pool["episodes"]
    assert (start["users_from"], start["users_to"], start["cause"]) == (20, 60, RATE)
    assert start["from_s"] == pytest.approx(0.2)
    assert start["to_s"] == pytest.approx(0.5)
    assert start["in_flight_peak"] == 60  # two processes' peaks in that second, summed
    assert (stall["users_from"], stall["users_to"], stall["cause"]) == (60, 100, REPLIES_SLOWED)
    assert stall["reply_us_p50"] == pytest.approx(900_000, rel=0.01)
    assert (pool["dropped"], pool["dropped_share"], pool["dropped_seconds"]) == (10, 0.01, 1)
    line = growth_line(from_json(UserPoolSummary, pool), from_json(Percentiles, PHASE_US))
    assert line is not None
    assert line.startswith("users grew 20 → 60 in the first 0.5 s (in flight peak 60 at 1.00 ms replies")
    assert "; 60 → 100 at 10.4 s (in flight peak 30 while replies took 9" in line
    assert line.endswith("ms (median; 1.00 ms over the phase): replies slowed)")
    reason = dropped_reason(pool)
    assert reason == (
        "dropped 10 due requests (1.00%) with all 60 users (--max-users) busy: that load was never sent"
    )


def test_a_pool_that_never_grew_says_nothing_and_older_runs_have_no_pool() -> None:
    pool = _pool([_row(100.0, "w0", [], reply_us=1000)])
    assert pool["episodes"] == []
    assert growth_line(from_json(UserPoolSummary, pool), None) is None
    assert dropped_reason(pool) is None
    old = [{"worker": "w0", "t_s": 100.0, "hist": {}}]
    assert user_pool(old, [{"users_start": None}], 100.0, 10, PHASE_US) is None


def test_a_hiccup_that_held_every_user_is_slow_replies_at_p99_though_the_median_did_not_move() -> None:
    # 500 req/s, 1 ms replies, and one 45-ms stall: the median stays, the second's p99 does not.
    values = array("q", [1000] * 480 + [45_000] * 20)
    row = {**_row(103.0, "w0", [[103.4, 20, 24, 20]], reply_us=1000), "hist": {"raw": encode_values(values)}}
    pool = _pool([row])
    (episode,) = pool["episodes"]
    assert episode["cause"] == REPLIES_SLOWED
    line = growth_line(from_json(UserPoolSummary, pool), from_json(Percentiles, PHASE_US))
    assert line == (
        "users grew 20 → 24 at 3.4 s (in flight peak 30 while replies took 45.02 ms (p99; 4.00 ms over the"
        " phase): replies slowed)"
    )
    assert slowed_at({"p50": 1500.0, "p99": 7000.0}, PHASE_US) is None  # within twice the phase's: the rate


def test_a_growth_in_a_row_flushed_late_still_finds_its_seconds() -> None:
    # w0's loop was busy: its growth at 101.5 s came in its row of the next second, after w1's at 101.9 s.
    records = [
        _row(101.0, "w1", [[101.9, 10, 20, 10]], reply_us=1000),
        _row(102.0, "w0", [[101.5, 10, 20, 10]], reply_us=1000),
    ]
    (episode,) = _pool(records)["episodes"]
    assert (episode["users_from"], episode["users_to"], episode["in_flight_peak"]) == (20, 40, 30)


def test_a_stall_whose_slow_replies_complete_after_the_growth_is_replies_slowed() -> None:
    # As the stall test recorded it: the pool grew into a pause at 1.9 s, the row of that second holds
    # only fast reads sent before it, and the paused ones complete the next second, among fast ones.
    slow_then_fast = array("q", [900_000] * 1000 + [200] * 1030)
    records = [
        _row(101.0, "w0", [[101.90, 10, 20, 10], [101.95, 20, 40, 20]], reply_us=200),
        {**_row(102.0, "w0", [], reply_us=200), "hist": {"raw": encode_values(slow_then_fast)}},
        _row(103.0, "w0", [], reply_us=200),
    ]
    (episode,) = _pool(records)["episodes"]
    assert episode["cause"] == REPLIES_SLOWED  # the second after it: p99 900 ms, over twice the phase's
    assert episode["reply_us_p99"] == pytest.approx(900_000, rel=0.01)
