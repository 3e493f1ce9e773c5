"""Background threads that leave Ctrl-C and kill to the main thread."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

# The signals `lbbench` turns into a clean teardown (see bench.cli.main).
TEARDOWN_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})


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
