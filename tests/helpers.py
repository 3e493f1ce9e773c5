"""Shared test helpers: the processes a test started, and reaping a child on the way out."""

from __future__ import annotations

import ctypes
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
_PR_SET_CHILD_SUBREAPER = 36
_NAMES = ("redis-server", "valkey-server", "locust", "redis-benchmark", "delayrelay")


def set_child_subreaper(on: bool) -> None:
    """Make orphaned descendants (servers of a killed `lbbench`) children of this process, or stop it.

    While this process is a subreaper, everything it started stays its descendant even after the
    parent in between died, so :func:`started_processes` still finds it (Linux only).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def started_processes() -> set[int]:
    """PIDs of the redis/valkey servers and Locust processes this test process started, still running.

    Only descendants count: a server somebody else runs on the machine is none of the test's business.
    """
    found = set()
    for proc in psutil.Process().children(recursive=True):
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            text = " ".join(proc.cmdline()) + " " + proc.name()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if any(word in text for word in _NAMES):
            found.add(proc.pid)
    return found


def alive(pids: set[int]) -> set[int]:
    """The subset of ``pids`` still running (zombies count as gone)."""
    out = set()
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.add(pid)
        except psutil.NoSuchProcess:
            pass
    return out


@contextmanager
def reaped(proc: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    """Yield ``proc``; on the way out (assertion failures included) kill and reap it if still running."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
