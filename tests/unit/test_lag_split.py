"""The guard on a synthetic open-loop run: a server stall exhausts the users, a late generator does not."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from analysis.figures.summary import build_summary
from analysis.render.report import render_report
from bench.run.options import MAX_STALL_USERS, CompareOptions, stall_cover_note, users_for_stalls
from tests.unit.sample_summary import typed
from tests.unit.synthetic_run import T0_S, Interval, Redis, Worker, write_run

OPEN_100 = {
    "mode": "open",
    "target_rps": 100.0,
    "lag_p99_limit_us": 2_000,
    "cpu_limit_percent": 90,
    "users": 2,
}
SERVICE_US = 200


@dataclass
class _Second:
    values_us: dict[str, list[int]] = field(
        default_factory=lambda: {"corrected": [], "raw": [], "lag": [], "gen_lag": []}
    )
    exhausted: int = 0
    first_s: float | None = None
    last_s: float | None = None
    in_flight_max: int = 0


def _open_loop(stall_us: tuple[int, int], wake_late_us: int = 5, users: int = 2) -> list[Interval]:
    """100 req/s for 10 s by ``users`` users, as locustfile.py paces them; the server stalls in ``stall_us``.

    A free user takes the next slot at once and sleeps until it is due, waking ``wake_late_us`` late
    (the generator's own lag); a slot already due when a user became free is sent at once.
    """
    free_at_us = [0] * users
    busy_until_us: list[int] = []
    seconds = {s: _Second() for s in range(11)}
    for intended_us in range(0, 10_000_000, 10_000):
        user = min(range(users), key=free_at_us.__getitem__)
        claimed_us = free_at_us[user]
        sent_us = max(intended_us, claimed_us) + (wake_late_us if claimed_us <= intended_us else 0)
        done_us = (
            max(sent_us, stall_us[1]) + SERVICE_US
            if stall_us[0] <= sent_us < stall_us[1]
            else sent_us + SERVICE_US
        )
        free_at_us[user] = done_us
        busy_until_us = [t for t in busy_until_us if t > sent_us] + [done_us]
        second = seconds[done_us // 1_000_000]
        second.values_us["corrected"].append(done_us - intended_us)
        second.values_us["raw"].append(done_us - sent_us)
        second.values_us["lag"].append(sent_us - intended_us)
        second.values_us["gen_lag"].append(sent_us - max(intended_us, claimed_us))
        second.in_flight_max = max(second.in_flight_max, len(busy_until_us))
        if claimed_us > intended_us:
            second.exhausted += 1
            due_s = T0_S + intended_us / 1e6
            second.first_s = due_s if second.first_s is None else second.first_s
            second.last_s = T0_S + claimed_us / 1e6
    return [
        Interval(
            float(s),
            second.values_us,
            users={
                "exhausted": second.exhausted,
                "exhausted_first_s": second.first_s,
                "exhausted_last_s": second.last_s,
                "in_flight_max": second.in_flight_max,
            },
        )
        for s, second in seconds.items()
        if second.values_us["corrected"]
    ]


def _naive(tmp_path: Path, intervals: list[Interval]) -> tuple[dict[str, Any], dict[str, Any]]:
    redis = Redis(commands=10_000, bytes_out=2_500_000, bytes_in=75_000)
    worker = Worker("local", intervals, t_start_rel_s=0.0, t_stop_rel_s=10.0)
    summary = build_summary(write_run(tmp_path / "run", {"naive": ([worker], redis, OPEN_100)})).to_json()
    return summary, summary["strategies"]["naive"]


def test_a_server_stall_exhausts_the_users_and_the_run_stays_valid(tmp_path: Path) -> None:
    summary, naive = _naive(tmp_path, _open_loop(stall_us=(5_000_000, 6_000_000)))
    # The stall is in the corrected latency and the whole schedule lag...
    assert naive["latency_us"]["p99"] >= 500_000
    assert naive["latency_us_raw"]["p99"] == pytest.approx(SERVICE_US, rel=0.01)
    assert naive["schedule_lag_us"]["p99"] >= 500_000
    # ...but not in the generator's own lag: the users were all busy, a slow system's doing.
    assert naive["generator_lag_us"]["p99"] <= 10
    assert naive["schedule_lag_cause"] == "users_exhausted"
    assert naive["valid"] is True, naive["invalid_reason"]
    exhausted = naive["users_exhausted"]
    # Every slot due in the stall but the two the users held, and the one due as it ended.
    assert exhausted["requests"] == 99
    assert exhausted["share"] == 0.099
    # From the first slot no user was free for to the moment the backlog had users again.
    assert exhausted["first_at_s"] == 5.02
    assert exhausted["last_at_s"] == pytest.approx(6.01, abs=0.001)
    assert (exhausted["in_flight_max"], exhausted["users"], exhausted["seconds"]) == (2, 2, 1)
    [episode] = exhausted["episodes"]
    assert (episode["from_s"], episode["requests"]) == (exhausted["first_at_s"], 99)
    report = render_report(typed(summary), {}, {})
    assert "## Users exhausted" in report
    assert (
        "all users were busy (in-flight limit of 2 users reached; peak 2 in flight), longest first,"
        " from 5.02 s to 6.01 s (99 requests) into the window" in report
    )
    assert "That is the system being slow, not the generator" in report


def test_a_late_generator_is_still_caught(tmp_path: Path) -> None:
    summary, naive = _naive(tmp_path, _open_loop(stall_us=(0, 0), wake_late_us=5_000))
    assert naive["valid"] is False
    assert naive["schedule_lag_cause"] == "generator"
    assert naive["invalid_reason"].startswith("generator lag p99 5,")
    assert naive["invalid_reason"].endswith("µs above the 2,000 µs limit: a free user could not send on time")
    assert naive["users_exhausted"]["requests"] == 0
    assert "## Users exhausted" not in render_report(typed(summary), {}, {})


def test_users_kept_busy_by_a_generator_short_of_cpu_are_its_doing(tmp_path: Path) -> None:
    intervals = _open_loop(stall_us=(5_000_000, 6_000_000))
    for interval in intervals:
        interval.cpu_percent = 97.0
    summary, naive = _naive(tmp_path, intervals)
    assert naive["valid"] is False
    assert naive["invalid_reason"].startswith("load-generator CPU 97.0% above 90%")
    assert naive["schedule_lag_cause"] == "generator"
    report = render_report(typed(summary), {}, {})
    assert "so the users may have been kept busy by the generator itself" in report
    assert "That is the system being slow" not in report


def test_runs_without_the_split_keep_the_old_guard(tmp_path: Path) -> None:
    intervals = _open_loop(stall_us=(5_000_000, 6_000_000))
    for interval in intervals:
        del interval.values_us["gen_lag"]
        interval.users = {}
    _, naive = _naive(tmp_path, intervals)
    assert (naive["generator_lag_us"], naive["users_exhausted"]) == (None, None)
    assert naive["schedule_lag_cause"] == "generator"
    assert naive["invalid_reason"].startswith("schedule lag p99 ")
    assert naive["invalid_reason"].endswith("limit: the generator could not send on time")


def test_users_for_stalls_hold_a_timeout_long_stall() -> None:
    assert users_for_stalls(1000, 1.0) == 1200
    assert users_for_stalls(500, 0.25, users=20) == 150
    assert users_for_stalls(50, 0.1, users=20) == 20  # never fewer than asked for
    assert users_for_stalls(100_000, 1.0) == MAX_STALL_USERS


def test_the_note_when_users_cannot_hold_the_timeout() -> None:
    note = stall_cover_note(CompareOptions(users=20, max_users=20, rps=1000.0, faults=("shard-stall",)))
    assert note == (
        "note: 20 users at most cover 20 ms of the 1,000 req/s schedule, less than the 1,000 ms timeout: in a"
        " longer stall the due requests find no free user and are dropped instead of reaching the servers;"
        " --max-users 1200 covers it"
    )
    # The pool may grow to hold the timeout by default, from 20 users as from more.
    assert stall_cover_note(CompareOptions(users=20, rps=1000.0, faults=("shard-stall",))) is None
    assert stall_cover_note(CompareOptions(users=20, max_users=20, rps=1000.0)) is None  # no fault, no stall
    assert stall_cover_note(CompareOptions(users=1000, rps=1000.0, faults=("shard-stall",))) is None
    assert stall_cover_note(CompareOptions(users=20, rps=None)) is None


def test_the_pool_may_grow_to_hold_a_timeout_long_stall_by_default() -> None:
    assert CompareOptions(rps=500.0).max_user_count == 600  # rate x 1 s timeout x 1.2
    assert CompareOptions(rps=500.0, users=700).max_user_count == 700  # never below the start
    assert CompareOptions(rps=100_000.0).max_user_count == MAX_STALL_USERS
    assert CompareOptions(rps=None, users=7).max_user_count == 7  # closed loop: the users are the load
    assert CompareOptions(rps=500.0, max_users=30).max_user_count == 30
    assert CompareOptions(rps=500.0).user_count == 20  # the pool starts where it always did
