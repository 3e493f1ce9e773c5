"""Shared test helpers."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil


def server_and_locust_pids() -> set[int]:
    """PIDs of every redis/valkey server and locust process on the machine."""
    found = set()
    for proc in psutil.process_iter(["pid", "name", "cmdline"]):
        try:
            text = " ".join(proc.info["cmdline"] or []) + " " + (proc.info["name"] or "")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if proc.info["pid"] == os.getpid():
            continue
        if any(word in text for word in ("redis-server", "valkey-server", "locust")):
            found.add(proc.info["pid"])
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


REPO = Path(__file__).resolve().parent.parent


@contextmanager
def reaped(proc: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    """Yield ``proc``; on the way out (assertion failures included) kill and reap it if still running."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
