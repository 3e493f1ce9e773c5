"""Handing paced slots to idle users with one kernel timer instead of a gevent timer per request.

A free user either takes the next slot at once (it is due and nobody waits before it) or queues. A
Linux timerfd, armed for the next slot's instant and watched by the event loop like a socket, wakes
the loop when it is due; its callback (in the hub) hands every slot due by then to the queued users
in turn. That replaces one ``gevent.sleep`` per request (a libev timer, and with the ``select``
backend a ``select()`` over every socket at each expiry) by a few syscalls per batch, and it keeps the
wake-up precise with the ``epoll`` backend, whose own timeouts are whole milliseconds.

With a pool that may grow (loadgen/pool.py), the same timer also watches when nobody waits: armed
for the moment the next slot is overdue, it finds out that every user is busy, and asks the pool to
grow, or, at the pool's limit, drops the overdue slots and counts them.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import gevent
from gevent.hub import Waiter, get_hub

from loadgen.pacing import Pacer
from loadgen.recorder import EXHAUSTED_AFTER_NS

_CLOCK_MONOTONIC = 1  # perf_counter_ns's clock on Linux
_TFD_NONBLOCK = os.O_NONBLOCK
_TFD_CLOEXEC = os.O_CLOEXEC
_TFD_TIMER_ABSTIME = 1


class _Timespec(ctypes.Structure):
    _fields_ = (("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long))


class _Itimerspec(ctypes.Structure):
    _fields_ = (("it_interval", _Timespec), ("it_value", _Timespec))


class _TimerFd:
    """A one-shot CLOCK_MONOTONIC timerfd armed at absolute ``perf_counter_ns`` instants."""

    def __init__(self) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self._settime = libc.timerfd_settime
        self.fd: int = libc.timerfd_create(_CLOCK_MONOTONIC, _TFD_NONBLOCK | _TFD_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "timerfd_create")
        self._spec = _Itimerspec()

    def arm(self, at_ns: int) -> None:
        value = self._spec.it_value
        at_ns = max(at_ns, 1)  # 0 would disarm it
        value.tv_sec, value.tv_nsec = divmod(at_ns, 1_000_000_000)
        if self._settime(self.fd, _TFD_TIMER_ABSTIME, ctypes.byref(self._spec), None) < 0:
            raise OSError(ctypes.get_errno(), "timerfd_settime")

    def drain(self) -> None:
        with contextlib.suppress(BlockingIOError):  # woken for nothing
            os.read(self.fd, 8)

    def close(self) -> None:
        os.close(self.fd)


def timerfd_available() -> bool:
    """Linux has timerfd; elsewhere users sleep until their slot."""
    try:
        _TimerFd().close()
    except (OSError, AttributeError):
        return False
    return True


# Going to sleep and waking costs a process ~25 µs of CPU on this VM (a select() sleeping 10 µs took
# 24 µs), whatever wakes it. So at high rates the release batches the slots due within this long after
# its last wake-up, for at most this much extra lag; slots further apart (below 5,000 req/s in a
# process) each go on time.
QUANTUM_NS = 200_000
# A slot this long overdue that no user waited for found every user busy: the recorder's threshold.
STARVED_AFTER_NS = EXHAUSTED_AFTER_NS


class SlotRelease:
    """Gives each free user a slot: ``take()`` returns (intended_ns, claimed_ns) once it is due.

    claimed_ns is when the user became free: a slot due before it waited for a user (all busy).
    Slots at or after ``stop_ns`` come back at once, unreleased: the window is over.

    Args:
        on_starved: called (with the timer; not in ``sleep`` mode) with the slots due by now when the
            next one is ``STARVED_AFTER_NS`` overdue and, a quantum later, still no user waits for it;
            it returns False when no user will come for them, and they are dropped.
    """

    def __init__(
        self,
        pacer: Pacer,
        use_timerfd: bool = True,
        quantum_ns: int = QUANTUM_NS,
        on_starved: Callable[[int], bool] | None = None,
    ) -> None:
        self.pacer = pacer
        self.quantum_ns = quantum_ns
        self._on_starved = on_starved
        self.dropped = 0  # slots no user could take, passed over
        self._suspect_slot: int | None = None  # overdue with nobody waiting once: is it still, a bit later?
        self._not_before_ns = 0  # the next wake-up comes a quantum after the last one at the earliest
        self.stop_ns = 1 << 62
        self._queue: deque[Waiter[Any]] = deque()
        self._timer: _TimerFd | None = None
        self._watcher: Any = None
        self._armed_ns: int | None = None
        if use_timerfd and timerfd_available():
            hub = get_hub()
            self._timer = _TimerFd()
            self._watcher = hub.loop.io(self._timer.fd, 1)  # 1: readable
            self._watcher.start(self._release)

    @property
    def mode(self) -> str:
        """How users wait for their slot: ``timerfd`` or ``sleep``."""
        return "sleep" if self._timer is None else "timerfd"

    def take(self) -> tuple[int, int]:
        now_ns = time.perf_counter_ns()
        pacer = self.pacer
        intended_ns = pacer.peek()
        if intended_ns >= self.stop_ns or (intended_ns <= now_ns and not self._queue):
            pacer.claim()
            if self._armed_ns is None and self._watching:
                self._watch()  # this user took an overdue slot: is the next one waiting for a user too?
            return intended_ns, now_ns
        if self._timer is None:
            pacer.claim()
            gevent.sleep((intended_ns - now_ns) / 1e9)
            return intended_ns, now_ns
        waiter: Waiter[Any] = Waiter()
        self._queue.append(waiter)
        at_ns = max(intended_ns, self._not_before_ns)
        if self._armed_ns is None or at_ns < self._armed_ns:  # armed later, to watch: now a user waits
            self._arm(at_ns)
        return int(waiter.get()), now_ns

    @property
    def _watching(self) -> bool:
        return self._on_starved is not None and self._timer is not None

    def _arm(self, at_ns: int) -> None:
        assert self._timer is not None
        self._armed_ns = at_ns
        self._timer.arm(at_ns)

    def _release(self) -> None:
        """In the hub, when the timer fires: each slot due by now to the next queued user."""
        assert self._timer is not None
        self._timer.drain()
        self._armed_ns = None
        self._not_before_ns = time.perf_counter_ns() + self.quantum_ns
        pacer, queue = self.pacer, self._queue
        while queue:
            intended_ns = pacer.peek()
            if intended_ns > time.perf_counter_ns() and intended_ns < self.stop_ns:
                self._arm(max(intended_ns, self._not_before_ns))
                return
            pacer.claim()
            queue.popleft().switch(intended_ns)  # runs that user until it blocks on its reply
        if self._watching and self._armed_ns is None:
            self._watch()

    def _watch(self) -> None:
        """Nobody waits for the next slot: wake once it is overdue, to learn whether every user is busy."""
        assert self._on_starved is not None
        pacer = self.pacer
        intended_ns = pacer.peek()
        if intended_ns >= self.stop_ns:
            return
        now_ns = time.perf_counter_ns()
        if intended_ns + STARVED_AFTER_NS > now_ns:
            self._arm(max(intended_ns + STARVED_AFTER_NS, self._not_before_ns))
            return
        if self._suspect_slot != pacer.next_slot:
            # Overdue, and nobody waits for it. After the loop was held up (CPU, a long flush), replies
            # that already came in free their users once their sockets are seen: look once more a
            # quantum later before calling every user busy, or a stall of the generator's own grows it.
            self._suspect_slot = pacer.next_slot
            self._arm(now_ns + self.quantum_ns)
            return
        self._suspect_slot = None
        if not self._on_starved(max(1, pacer.due_by(now_ns))):
            # No user will come: pass over what is long overdue; slots due just now still may get one.
            overdue = max(1, min(pacer.due_by(now_ns - STARVED_AFTER_NS), pacer.due_by(self.stop_ns - 1)))
            pacer.skip(overdue)
            self.dropped += overdue
        self._arm(max(pacer.peek() + STARVED_AFTER_NS, now_ns + self.quantum_ns))

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher.close()
        if self._timer is not None:
            self._timer.close()
