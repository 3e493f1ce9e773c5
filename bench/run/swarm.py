"""Running Locust headless as child processes (bench never imports locust: it monkey-patches gevent).

One process, or a master plus N workers on 127.0.0.1 (``--workers N``), and/or a master that also
expects workers it does not start, which connect from other hosts (``--remote-workers N``,
``lbbench-worker``). The locustfile ends the run itself after the configured duration, so here we
only wait, show progress, and make sure nothing we started outlives us.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.errors import RunError, UsageError
from bench.run.loadconfig import LoadConfig
from bench.threads import teardown_signals_held
from bench.topology.processes import child_preexec, free_port
from runfiles import PhaseFiles

STOP_GRACE_S = 10.0
# Locust needs a moment to import, spawn users and write its CSVs (the wait for workers comes on top).
STARTUP_ALLOWANCE_S = 60.0
# How long a master waits for the workers it started itself.
LOCAL_WORKERS_WAIT_S = 30.0
# Locust's own --expect-workers-max-wait comes this much after the locustfile's, which says how many
# workers came (loadgen/roles.py); it is only a backstop.
WAIT_BACKSTOP_S = 10.0
# Binding these means "every interface": local workers reach such a master on loopback.
_WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "*": "127.0.0.1"}  # noqa: S104 - a lookup, not a bind
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
class MasterBind:
    """Where a Locust master listens for its workers (``--master-bind HOST:PORT``)."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> MasterBind:
        """``HOST:PORT``; UsageError with one line otherwise."""
        host, sep, port_text = text.rpartition(":")
        if not sep or not host.strip():
            raise UsageError(f"--master-bind must be HOST:PORT, e.g. 0.0.0.0:5557, got {text!r}")
        try:
            port = int(port_text)
        except ValueError:
            raise UsageError(f"--master-bind port must be an integer, got {port_text!r}") from None
        if not 1 <= port <= 65535:
            raise UsageError(f"--master-bind port must be between 1 and 65535, got {port}")
        return cls(host, port)

    @property
    def local_host(self) -> str:
        """The address workers on this machine connect to."""
        return _WILDCARD_HOSTS.get(self.host, self.host)

    def check_free(self) -> None:
        """UsageError unless the master could listen there now (a typo'd host, a port in use)."""
        host = None if self.host == "*" else self.host
        try:
            family, kind, proto, _, address = socket.getaddrinfo(
                host, self.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )[0]
        except socket.gaierror as exc:
            raise UsageError(f"--master-bind {self.host}:{self.port}: {exc.strerror}") from None
        with socket.socket(family, kind, proto) as sock:
            # As ZeroMQ does: a previous phase's master leaves connections in TIME_WAIT.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                raise UsageError(f"--master-bind {self.host}:{self.port}: {exc.strerror}") from None


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
            preexec_fn=child_preexec,  # noqa: PLW1509 - must run in the child before exec
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


def swarm_commands(
    config: LoadConfig, users: int, files: PhaseFiles, bind: MasterBind | None = None
) -> SwarmCommands:
    """One headless process, or a master plus the workers it starts on this machine.

    The master listens on ``bind`` (default: a free 127.0.0.1 port) and waits for
    ``config.workers``, of which ``config.remote_workers`` it does not start.
    """
    base = [sys.executable, "-m", "locust", "-f", str(locustfile_path())]
    quiet = ["--loglevel", "WARNING", USER_CLASS]
    leader = [*base, "--headless", "--users", str(users), "--spawn-rate", str(users), "--only-summary"]
    leader += ["--csv", str(files.locust_csv_prefix), *quiet]
    if config.workers <= 1 and not config.remote_workers:
        return SwarmCommands(leader, [])
    bind = bind or MasterBind("127.0.0.1", free_port())
    leader += ["--master", "--master-bind-host", bind.host, "--master-bind-port", str(bind.port)]
    leader += ["--expect-workers", str(config.workers)]
    leader += ["--expect-workers-max-wait", str(math.ceil(config.workers_wait_s + WAIT_BACKSTOP_S))]
    worker = [*base, "--worker", "--master-host", bind.local_host, "--master-port", str(bind.port), *quiet]
    return SwarmCommands(leader, [worker] * (config.workers - config.remote_workers))


def run_locust(
    config: LoadConfig,
    *,
    users: int,
    files: PhaseFiles,
    tick: Callable[[float], None] | None = None,
    bind: MasterBind | None = None,
) -> LocustResult:
    """Run one headless swarm for ``config.duration_s`` and wait for it; never leaves a process behind.

    Args:
        tick: called about twice a second with the seconds elapsed, for progress display.
        bind: where the master listens (see swarm_commands).
    """
    commands = swarm_commands(config, users, files, bind)
    env = {**os.environ, **config.to_env()}
    env.setdefault("GEVENT_BACKEND", GEVENT_BACKEND)
    logs = [files.locust_log] + [files.worker_log(i) for i in range(len(commands.workers))]
    started = time.perf_counter()
    leader: subprocess.Popen[bytes] | None = None
    followers: list[subprocess.Popen[bytes]] = []
    limit_s = config.duration_s + config.workers_wait_s + STARTUP_ALLOWANCE_S
    deadline = started + limit_s
    try:
        # Held while forking (bench/threads.py); a Ctrl-C then lands once the process is ours to stop.
        with teardown_signals_held():
            leader = _popen(commands.leader, logs[0], env, None)
        for cmd, log in zip(commands.workers, logs[1:], strict=True):
            with teardown_signals_held():
                followers.append(_popen(cmd, log, env, leader.pid))
        while leader.poll() is None:
            if time.perf_counter() > deadline:
                raise RunError(f"Locust did not stop within {limit_s:.0f}s")
            if tick is not None:
                tick(time.perf_counter() - started)
            time.sleep(0.5)
        for follower in followers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                follower.wait(timeout=STOP_GRACE_S)
    finally:
        if leader is not None:
            _stop_group(leader)
        for follower in followers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                follower.wait(timeout=1)
    return LocustResult(leader.returncode, time.perf_counter() - started, logs)
