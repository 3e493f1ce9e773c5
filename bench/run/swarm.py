"""Running Locust headless as child processes (bench never imports locust: it monkey-patches gevent).

One process, or a master plus N workers on 127.0.0.1 (``--workers N``). The locustfile ends the
run itself after the configured duration, so here we only wait, show progress, and make sure
nothing outlives us.
"""

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

from analysis.runfiles import PhaseFiles
from bench.errors import RunError, UsageError
from bench.run.loadconfig import LoadConfig
from bench.topology.processes import child_preexec, free_port

STOP_GRACE_S = 10.0
# Locust needs a moment to import, connect workers, spawn users and write its CSVs.
STARTUP_ALLOWANCE_S = 60.0
USER_CLASS = "LeaderboardUser"
# libev's epoll and poll backends sleep in whole milliseconds (a 200 µs gevent.sleep took 1.15 ms
# at p50 here), which would put up to 1 ms of false lag into every paced request; select sleeps
# to within ~0.1 ms. (io_uring was as precise but aborted in libev under load.)
GEVENT_BACKEND = "select"


def locustfile_path() -> Path:
    """Path of loadgen/locustfile.py, found without importing it (importing it would patch gevent here)."""
    spec = importlib.util.find_spec("loadgen")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError("the loadgen package is not installed next to bench")
    return Path(next(iter(spec.submodule_search_locations))) / "locustfile.py"


@dataclass(frozen=True)
class LocustResult:
    """How the Locust processes ended."""

    returncode: int
    seconds: float
    log_paths: list[Path]


def _popen(cmd: list[str], log_path: Path, env: dict[str, str], group: int | None) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            # The master leads a new process group (not a new session: a process may only join a
            # group of its own session) and the workers join it, so one killpg stops them all.
            process_group=0 if group is None else group,
            preexec_fn=child_preexec,  # noqa: PLW1509 - prctl must run in the child before exec
        )


def _stop_group(leader: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(leader.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        leader.wait(timeout=STOP_GRACE_S)
    # Whatever is left of the group (workers included) goes now.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(leader.pid, signal.SIGKILL)
    leader.wait()


@dataclass(frozen=True)
class SwarmCommands:
    """The command lines of one swarm: the leader (single process or master) and its workers."""

    leader: list[str]
    workers: list[list[str]]


def swarm_commands(config: LoadConfig, users: int, files: PhaseFiles) -> SwarmCommands:
    """One headless process, or a master on a free 127.0.0.1 port plus ``config.workers`` workers."""
    base = [sys.executable, "-m", "locust", "-f", str(locustfile_path())]
    quiet = ["--loglevel", "WARNING", USER_CLASS]
    leader = [*base, "--headless", "--users", str(users), "--spawn-rate", str(users), "--only-summary"]
    leader += ["--csv", str(files.locust_csv_prefix), *quiet]
    if config.workers <= 1:
        return SwarmCommands(leader, [])
    port = str(free_port())
    leader += ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", port]
    leader += ["--expect-workers", str(config.workers)]
    leader += ["--expect-workers-max-wait", str(int(STARTUP_ALLOWANCE_S / 2))]
    worker = [*base, "--worker", "--master-host", "127.0.0.1", "--master-port", port, *quiet]
    return SwarmCommands(leader, [worker] * config.workers)


def run_locust(
    config: LoadConfig,
    *,
    users: int,
    files: PhaseFiles,
    tick: Callable[[float], None] | None = None,
) -> LocustResult:
    """Run one headless swarm for ``config.duration_s`` and wait for it; never leaves a process behind.

    Args:
        tick: called about twice a second with the seconds elapsed, for progress display.
    """
    commands = swarm_commands(config, users, files)
    env = {**os.environ, **config.to_env()}
    env.setdefault("GEVENT_BACKEND", GEVENT_BACKEND)
    logs = [files.locust_log] + [files.worker_log(i) for i in range(len(commands.workers))]
    started = time.perf_counter()
    leader = _popen(commands.leader, logs[0], env, None)
    followers: list[subprocess.Popen[bytes]] = []
    deadline = started + config.duration_s + STARTUP_ALLOWANCE_S
    try:
        for cmd, log in zip(commands.workers, logs[1:], strict=True):
            followers.append(_popen(cmd, log, env, leader.pid))
        while leader.poll() is None:
            if time.perf_counter() > deadline:
                raise RunError(f"Locust did not stop within {config.duration_s + STARTUP_ALLOWANCE_S:.0f}s")
            if tick is not None:
                tick(time.perf_counter() - started)
            time.sleep(0.5)
        for follower in followers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                follower.wait(timeout=STOP_GRACE_S)
    finally:
        _stop_group(leader)
        for follower in followers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                follower.wait(timeout=1)
    return LocustResult(leader.returncode, time.perf_counter() - started, logs)
