"""The slot release: idle users get each paced slot once it is due, in order, never early."""

from __future__ import annotations

import time

import gevent
import pytest

from loadgen.pacing import Pacer, Schedule
from loadgen.pool import UserPool
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


def _grown_run(max_users: int, start_users: int = 2) -> tuple[UserPool, SlotRelease, list[int]]:
    """2,000 slots/s for 0.2 s, each read in flight 5 ms: ~10 users busy; the pool grows toward max_users."""
    taken: list[int] = []
    users: list[gevent.Greenlet] = []
    pacer = Pacer(Schedule(2000.0))

    def user(connect_s: float) -> None:
        if connect_s:
            gevent.sleep(connect_s)  # a new user connects before it takes a slot
            pool.joined()
        while True:
            intended_ns, _ = release.take()
            if intended_ns >= release.stop_ns:
                return
            taken.append(intended_ns)
            gevent.sleep(0.005)

    def spawn(count: int) -> None:
        users.extend(gevent.spawn(user, 0.001) for _ in range(count))

    pool = UserPool(max_users, spawn)
    release = SlotRelease(pacer, on_starved=lambda overdue: pool.starved(overdue, in_flight=0))
    pool.started(start_users)
    pacer.start()
    release.stop_ns = pacer.peek() + 200_000_000
    try:
        users.extend(gevent.spawn(user, 0.0) for _ in range(start_users))
        while not all(u.dead for u in users):  # the growth adds users while the first ones run
            gevent.joinall(list(users), timeout=10)
    finally:
        release.close()
    return pool, release, taken


@pytest.mark.skipif(not timerfd_available(), reason="the pool grows on the timer's watch")
def test_a_pool_with_room_grows_until_every_slot_is_sent() -> None:
    pool, release, taken = _grown_run(max_users=40)
    assert release.dropped == 0
    assert len(taken) == 400  # every slot sent, none twice
    assert len(set(taken)) == 400
    assert 10 <= pool.size <= 40  # grown to what 2,000/s x 5 ms keeps busy, within the limit
    assert pool.growths[0].before == 2
    assert all(g.before < g.after <= 2 * g.before for g in pool.growths)  # at most doubling each time
    assert all(a.after == b.before for a, b in zip(pool.growths, pool.growths[1:], strict=False))


@pytest.mark.skipif(not timerfd_available(), reason="the pool grows on the timer's watch")
def test_a_pool_at_its_limit_drops_the_slots_no_user_can_take() -> None:
    pool, release, taken = _grown_run(max_users=2)
    assert pool.size == 2
    assert not pool.growths
    # Two users 5 ms per read send ~80 of the 400; the rest were passed over, each counted once.
    assert len(taken) + release.dropped == 400
    assert release.dropped >= 250
