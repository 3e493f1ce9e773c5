"""LoopThread (bench/threads.py): ticks on a fixed grid, stops at once, leaves signals to the main thread.

Real short periods; the assertions are on due times (exact arithmetic), order and counts, and on
bounds seconds wide where a wait is timed, so a loaded machine makes them slow, not wrong.
"""

from __future__ import annotations

import itertools
import signal
import threading
import time
from collections.abc import Callable

import pytest

from bench.threads import TEARDOWN_SIGNALS, LoopThread

PERIOD_S = 0.02
# A wait that stop() should cut short: far longer than any test may take.
LONG_S = 600.0
# What "at once" may take on a busy CI machine.
PROMPT_S = 5.0


def run_ticks(count: int, *, skip_overrun: bool, work_s: Callable[[int], float]) -> list[tuple[float, float]]:
    """(due, called) of the first ``count`` ticks, the body taking ``work_s(k)`` after the k-th."""
    seen: list[tuple[float, float]] = []
    done = threading.Event()

    def body() -> None:
        for due in loop.ticks(PERIOD_S, skip_overrun=skip_overrun):
            seen.append((due, time.perf_counter()))
            if len(seen) == count:
                break
            time.sleep(work_s(len(seen) - 1))
        done.set()

    loop = LoopThread(body, "ticks")
    loop.start()
    assert done.wait(LONG_S)
    loop.stop()
    return seen


def periods_after_first(seen: list[tuple[float, float]]) -> list[float]:
    first = seen[0][0]
    return [(due - first) / PERIOD_S for due, _ in seen]


@pytest.mark.parametrize("skip_overrun", [False, True])
def test_ticks_stay_on_the_grid_however_long_the_body_takes(skip_overrun: bool) -> None:
    # A body taking 60% of the period: a loop sleeping a period after it would drift by 0.6 a tick.
    seen = run_ticks(8, skip_overrun=skip_overrun, work_s=lambda _: 0.6 * PERIOD_S)
    periods = periods_after_first(seen)
    assert periods == pytest.approx([round(p) for p in periods], abs=1e-6)
    assert all(b > a for a, b in itertools.pairwise(periods))
    if not skip_overrun:
        assert periods == pytest.approx(list(range(8)), abs=1e-6)
    # No tick comes before it is due (1 ms for the clocks' rounding).
    assert all(called >= due - 1e-3 for due, called in seen)


def test_an_overrun_tick_is_caught_up_at_once_without_skip() -> None:
    seen = run_ticks(4, skip_overrun=False, work_s=lambda k: 2.5 * PERIOD_S if k == 0 else 0.0)
    assert periods_after_first(seen) == pytest.approx([0, 1, 2, 3], abs=1e-6)


def test_an_overrun_tick_skips_the_due_times_it_passed_with_skip() -> None:
    seen = run_ticks(3, skip_overrun=True, work_s=lambda k: 2.5 * PERIOD_S if k == 0 else 0.0)
    periods = periods_after_first(seen)
    assert periods == pytest.approx([round(p) for p in periods], abs=1e-6)
    # The body ended 2.5 periods after the first tick at the earliest: ticks 1 and 2 are gone.
    assert periods[1] >= 3 - 1e-6
    assert periods[2] > periods[1]


def test_the_first_tick_is_due_first_s_after_the_start() -> None:
    seen: list[float] = []
    done = threading.Event()

    def body() -> None:
        started = time.perf_counter()
        for due in loop.ticks(LONG_S, first_s=0.0, skip_overrun=False):
            seen.append(due - started)
            break
        done.set()

    loop = LoopThread(body, "first")
    loop.start()
    assert done.wait(PROMPT_S)  # a period of LONG_S: only first_s brings a tick this soon
    loop.stop()
    assert len(seen) == 1
    assert 0.0 <= seen[0] < PROMPT_S


def test_a_tick_period_must_be_positive() -> None:
    loop = LoopThread(lambda: None, "never-started")
    with pytest.raises(ValueError, match="positive"):
        next(loop.ticks(0.0, skip_overrun=True))


@pytest.mark.parametrize(
    "wait",
    [
        lambda loop: not any(True for _ in loop.ticks(LONG_S, skip_overrun=True)),
        lambda loop: loop.wait(LONG_S),
        lambda loop: loop.wait_until(time.perf_counter() + LONG_S),
    ],
    ids=["ticks", "wait", "wait_until"],
)
def test_stop_wakes_a_waiting_loop_at_once(wait: Callable[[LoopThread], bool]) -> None:
    """``wait`` returns whether the stop ended it (no tick came, or the wait said so)."""
    waiting = threading.Event()
    stopped: list[bool] = []

    def body() -> None:
        waiting.set()
        stopped.append(wait(loop))

    loop = LoopThread(body, "waiter")
    loop.start()
    assert waiting.wait(LONG_S)
    started = time.perf_counter()
    loop.stop()
    assert time.perf_counter() - started < PROMPT_S
    assert stopped == [True]


def test_stop_is_idempotent_and_needs_no_start() -> None:
    never_started = LoopThread(lambda: None, "idle")
    never_started.stop()
    never_started.stop()

    ran = threading.Event()
    loop = LoopThread(ran.set, "once")
    loop.start()
    loop.stop()
    loop.stop()
    assert ran.is_set()
    assert loop.wait(LONG_S)  # stopped for good: a later wait returns at once


def test_the_loop_may_stop_itself() -> None:
    returned = threading.Event()

    def body() -> None:
        loop.stop()
        returned.set()

    loop = LoopThread(body, "self-stop")
    loop.start()
    assert returned.wait(LONG_S)
    loop.stop()


def test_an_exception_ends_the_thread_and_reaches_excepthook() -> None:
    hooked: list[tuple[type[BaseException], str]] = []
    raised = threading.Event()

    def hook(args: threading.ExceptHookArgs) -> None:
        assert args.thread is not None
        hooked.append((args.exc_type, args.thread.name))
        raised.set()

    ticks = 0

    def body() -> None:
        nonlocal ticks
        for _ in loop.ticks(PERIOD_S, first_s=0.0, skip_overrun=True):
            ticks += 1
            raise RuntimeError("boom")

    loop = LoopThread(body, "failing")
    # Set and put back by hand, not with monkeypatch: pytest's own hook is in place for the test's
    # call only, and monkeypatch would reinstall it after the test.
    previous, threading.excepthook = threading.excepthook, hook
    try:
        loop.start()
        assert raised.wait(LONG_S)
        loop.stop()  # returns: the thread ended with the exception
    finally:
        threading.excepthook = previous
    assert ticks == 1
    assert hooked == [(RuntimeError, "failing")]


def test_the_thread_is_named_a_daemon_and_leaves_teardown_signals_to_the_main_thread() -> None:
    seen: list[tuple[str, bool, set[int]]] = []

    def body() -> None:
        me = threading.current_thread()
        seen.append((me.name, me.daemon, set(signal.pthread_sigmask(signal.SIG_BLOCK, []))))

    loop = LoopThread(body, "telemetry")
    loop.start()
    loop.stop()
    name, daemon, blocked = seen[0]
    assert (name, daemon) == ("telemetry", True)
    assert blocked >= TEARDOWN_SIGNALS
