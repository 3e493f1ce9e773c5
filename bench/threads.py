"""Teardown on Ctrl-C and kill: the main thread turns them into exceptions; other threads leave them be."""

from __future__ import annotations

import signal
import threading
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
