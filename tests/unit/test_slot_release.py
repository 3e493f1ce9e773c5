"""The slot release: idle users get each paced slot once it is due, in order, never early."""

from __future__ import annotations

import time

import gevent
import pytest

from loadgen.pacing import Pacer, Schedule
from loadgen.release import SlotRelease, timerfd_available

MODES = [pytest.param(True, id="timerfd"), pytest.param(False, id="sleep")]


def _users(release: SlotRelease, users: int) -> list[tuple[int, int, int]]:
    """(intended, claimed, woken) of every slot the users took before the stop."""
    taken: list[tuple[int, int, int]] = []

    def user() -> None:
        while True:
            intended_ns, claimed_ns = release.take()
            if intended_ns >= release.stop_ns:
                return
            taken.append((intended_ns, claimed_ns, time.perf_counter_ns()))
            gevent.sleep(0.0005)  # a request in flight

    gevent.joinall([gevent.spawn(user) for _ in range(users)], timeout=10)
    return taken


@pytest.mark.parametrize("use_timerfd", MODES)
def test_every_slot_is_taken_once_in_order_and_never_early(use_timerfd: bool) -> None:
    pacer = Pacer(Schedule(1000.0))
    release = SlotRelease(pacer, use_timerfd=use_timerfd, quantum_ns=200_000)
    assert release.mode == ("timerfd" if use_timerfd and timerfd_available() else "sleep")
    pacer.start()
    release.stop_ns = pacer.peek() + 200_000_000  # 0.2 s: 200 slots
    try:
        taken = _users(release, users=10)
    finally:
        release.close()
    intended = sorted(t[0] for t in taken)
    assert intended == [release.stop_ns - 200_000_000 + k * 1_000_000 for k in range(200)]
    if release.mode == "timerfd":  # a gevent.sleep() is only as exact as the loop's clock
        assert all(woken >= intended_ns for intended_ns, _, woken in taken)
        # With users to spare nearly every slot found one idle before it was due.
        assert sum(claimed > intended_ns + 200_000 for intended_ns, claimed, _ in taken) < 10


@pytest.mark.parametrize("use_timerfd", MODES)
def test_a_slot_already_due_goes_at_once_to_the_user_that_became_free(use_timerfd: bool) -> None:
    now = [0]
    pacer = Pacer(Schedule(1000.0), clock_ns=lambda: now[0])
    release = SlotRelease(pacer, use_timerfd=use_timerfd)
    now[0] = time.perf_counter_ns() - 5_000_000  # the window opened 5 ms ago: slots 0-5 are due
    pacer.start()
    try:
        before_ns = time.perf_counter_ns()
        intended_ns, claimed_ns = release.take()
        assert intended_ns == now[0]
        assert claimed_ns >= before_ns  # it waited for a free user, not for the pacer
        release.stop_ns = pacer.peek()
        late_ns, _ = release.take()  # the window is over: back at once, not released
        assert late_ns == release.stop_ns
        assert pacer.next_slot == 2
    finally:
        release.close()
