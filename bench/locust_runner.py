"""Running Locust headless as a child process (bench never imports locust: it monkey-patches gevent)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.errors import UsageError
from bench.loadconfig import LoadConfig
from bench.servers import child_preexec

STOP_GRACE_S = 10.0
# Locust needs a moment to import, spawn users and, at the end, write its CSVs.
STARTUP_ALLOWANCE_S = 60.0
USER_CLASS = "LeaderboardUser"


def locustfile_path() -> Path:
    """Path of loadgen/locustfile.py, found without importing it (importing it would patch gevent here)."""
    spec = importlib.util.find_spec("loadgen")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError("the loadgen package is not installed next to bench")
    return Path(next(iter(spec.submodule_search_locations))) / "locustfile.py"


@dataclass(frozen=True)
class LocustResult:
    """How a Locust process ended."""

    returncode: int
    seconds: float
    log_path: Path


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    # Locust writes its results on SIGTERM; give it the grace period, then kill the whole group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run_locust(
    config: LoadConfig,
    *,
    users: int,
    duration_s: float,
    log_path: Path,
    csv_prefix: Path,
    tick: Callable[[float], None] | None = None,
) -> LocustResult:
    """Run one headless Locust swarm for ``duration_s`` and wait for it; never leaves it running.

    Args:
        tick: called about twice a second with the seconds elapsed, for progress display.
    """
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(locustfile_path()),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{max(1, round(duration_s))}s",
        "--only-summary",
        "--csv",
        str(csv_prefix),
        "--loglevel",
        "WARNING",
        USER_CLASS,
    ]
    env = {**os.environ, **config.to_env()}
    started = time.perf_counter()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            preexec_fn=child_preexec,  # noqa: PLW1509 - prctl must run in the child before exec
        )
        deadline = started + duration_s + STARTUP_ALLOWANCE_S
        try:
            while process.poll() is None:
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"Locust did not stop within {duration_s + STARTUP_ALLOWANCE_S:.0f}s")
                if tick is not None:
                    tick(time.perf_counter() - started)
                time.sleep(0.5)
        finally:
            if process.poll() is None:
                _stop_group(process)
            # Anything Locust forked and left behind goes with it.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
    return LocustResult(process.returncode, time.perf_counter() - started, log_path)
