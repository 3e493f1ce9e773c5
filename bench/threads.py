"""The harness's threads: the main thread turns Ctrl-C and kill into a teardown; background threads
leave those signals to it, and stop at once when told.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

# How long the refresher and the telemetry sampler wait for each other before going ahead anyway:
# well above a refresh or an INFO round on a healthy cluster (ms), well below the 1 s sampling step.
OVERLAP_WAIT_S = 0.25

# The signals `lbbench` turns into a clean teardown.
TEARDOWN_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})


class Terminated(BaseException):
    """Raised in the main thread on SIGTERM/SIGHUP so every ``finally`` tears down what it started."""


def _raise_terminated(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


def install_teardown_handlers() -> None:
    """Make SIGINT, SIGTERM and SIGHUP raise in the main thread, whatever this process inherited.

    A process started in the background by a non-interactive shell (``cmd &`` in a script, a CI
    runner) inherits SIGINT *ignored*, and Python then installs no KeyboardInterrupt handler: a
    SIGINT did nothing and spawned servers outlived an interrupted run. So SIGINT gets Python's
    handler back explicitly. Call from the main thread, before starting anything.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_terminated)


def background_thread(target: Callable[[], None], name: str) -> threading.Thread:
    """A daemon thread that blocks the teardown signals, so the kernel delivers them to the main thread.

    Linux may hand a process-wide signal to any thread that does not block it. Python only runs
    handlers in the main thread, and a main thread asleep in a lock or ``waitpid`` is not woken
    when another thread took the signal: ``lbbench up`` then ignored Ctrl-C.
    """

    def run() -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, TEARDOWN_SIGNALS)
        target()

    return threading.Thread(target=run, name=name, daemon=True)


class LoopThread:
    """A :func:`background_thread` running ``body`` once, whose waits :meth:`stop` cuts short.

    ``body`` paces itself with :meth:`ticks`, :meth:`wait` or :meth:`wait_until`; each returns (or
    ends the ticks) as soon as :meth:`stop` is called, so a loop asleep until its next tick stops
    at once, not a period later. Due times are on :func:`time.perf_counter`.

    :meth:`stop` joins without a timeout: a body busy in its work is waited for, so what it does on
    the way out (a last row, a node left running) has happened when ``stop`` returns. It is
    idempotent, and a no-op join before :meth:`start` or from ``body``'s own thread.

    An exception out of ``body`` ends the thread and reaches :func:`threading.excepthook`, as for
    any thread; a body that must go on after an error catches it itself.
    """

    def __init__(self, body: Callable[[], None], name: str) -> None:
        self._stop = threading.Event()
        self._thread = background_thread(body, name)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Wake ``body``'s wait and wait for ``body`` to return."""
        self._stop.set()
        thread = self._thread
        # Joining a thread never started, or oneself, raises; there is nothing to wait for then.
        if thread.ident is not None and thread is not threading.current_thread():
            thread.join()

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds``; True (at once) if :meth:`stop` was or is called meanwhile."""
        return self._stop.wait(seconds)

    def wait_until(self, due_s: float) -> bool:
        """Sleep until ``time.perf_counter()`` reaches ``due_s``; True (at once) on :meth:`stop`."""
        return self._stop.wait(max(0.0, due_s - time.perf_counter()))

    def ticks(self, period_s: float, *, first_s: float | None = None, skip_overrun: bool) -> Iterator[float]:
        """Yield each tick's due time as it comes, until :meth:`stop`.

        The first tick is due ``first_s`` after the first ``next()`` (by default one period), the
        k-th ``k`` periods after that: the time the loop's body takes moves no later tick (no drift).
        A body that ran past the next due times either skips them (``skip_overrun``: the next tick
        is the first still ahead) or gets them at once, one after another, so none is lost.
        """
        if period_s <= 0:
            raise ValueError(f"a tick period must be positive, got {period_s}")
        next_s = time.perf_counter() + (period_s if first_s is None else first_s)
        while not self.wait_until(next_s):
            yield next_s
            next_s += period_s
            if skip_overrun:
                now = time.perf_counter()
                while next_s <= now:
                    next_s += period_s


@contextmanager
def teardown_signals_held() -> Iterator[None]:
    """Hold the teardown signals for the block; one that came is raised when it ends.

    For spawning with a ``preexec_fn``: CPython then runs the at-fork handlers in the parent
    (logging's lock release among them), and a KeyboardInterrupt raised inside one is printed as
    "Exception ignored" and lost; a Ctrl-C at that instant left the run going (seen in
    tests/integration/test_cli.py). The child inherits the mask: its ``preexec_fn`` must call
    :func:`release_teardown_signals`, or it would exec with them blocked.

    Blocking them in this thread is not enough: the kernel hands a process-wide signal to any thread
    that does not block it, such as the worker threads numpy's BLAS starts, and Python then runs its
    handler in the main thread at once (seen as a flaky test on a loaded machine). So in the main
    thread the handlers are swapped for one that only notes the signal, which is raised again after.
    """
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, TEARDOWN_SIGNALS)
    noted: list[int] = []
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        handlers = {signum: signal.getsignal(signum) for signum in TEARDOWN_SIGNALS}
        for signum in TEARDOWN_SIGNALS:
            signal.signal(signum, lambda signum, _frame: noted.append(signum))
    try:
        yield
    finally:
        # The mask first: a signal it held comes in now, to the handler that only notes it.
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        if noted:
            signal.raise_signal(noted[0])


def release_teardown_signals() -> None:
    """Unblock the teardown signals (in a child forked under :func:`teardown_signals_held`)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, TEARDOWN_SIGNALS)


@contextmanager
def held_briefly(lock: threading.Lock, timeout_s: float) -> Iterator[bool]:
    """Hold ``lock`` for the block if it comes free within ``timeout_s``; yields whether it did.

    For two background jobs that should not overlap but must not stall each other either: one
    stuck on a stalled server (a fault) makes the other wait ``timeout_s`` once, then go ahead.
    """
    acquired = lock.acquire(timeout=timeout_s)
    try:
        yield acquired
    finally:
        if acquired:
            lock.release()
