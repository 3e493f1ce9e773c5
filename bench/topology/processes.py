"""Spawning redis-server / valkey-server children on free loopback ports, and tearing them down."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil
import redis

from bench.errors import TopologyError
from bench.serverbinary import ServerBinary
from bench.threads import TEARDOWN_SIGNALS, release_teardown_signals, teardown_signals_held
from bench.topology.endpoint import Endpoint, redact_url
from bench.topology.tlsca import ServerCertificates, make_certificates
from bench.wire.policy import ConnectionPolicy
from bench.wire.tls import TlsFiles

READY_TIMEOUT_S = 15.0
READY_PING_TIMEOUT_MS = 1000.0
STOP_TIMEOUT_S = 5.0
PORT_ATTEMPTS = 3
WORKDIR_PREFIX = "lbbench-servers-"  # then the harness's pid: a dir whose pid is gone is an orphan
_PR_SET_PDEATHSIG = 1


def _set_parent_death_signal() -> None:
    # Runs in the child between fork and exec: if the harness dies (even by SIGKILL), so does the server.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def child_preexec() -> None:
    """preexec_fn for every child we spawn: die with the parent (Linux only), take signals again.

    Children are forked under :func:`bench.threads.teardown_signals_held` and inherit that mask.
    """
    release_teardown_signals()
    with contextlib.suppress(OSError, AttributeError):
        _set_parent_death_signal()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """One spawned server."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    args: tuple[str, ...] = ()  # the command line, to start it again after a kill fault
    tls: bool = False  # the port speaks TLS only

    @property
    def url(self) -> str:
        return f"{'rediss' if self.tls else 'redis'}://127.0.0.1:{self.port}"

    def last_log_line(self) -> str:
        with contextlib.suppress(OSError):
            lines = [line for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
            if lines:
                return lines[-1].strip()
        return "(no log output)"


def wait_for_ping(
    label: str, url: str, deadline: float, exited: Callable[[], str | None], tls: TlsFiles | None = None
) -> None:
    """PING ``url`` until it answers; TopologyError when ``exited()`` says why not, or at ``deadline``.

    ``tls``: what a ``rediss://`` URL's connection checks the server against.
    """
    # The harness's one policy: no retries, so a refused connection returns at once and we poll.
    policy = ConnectionPolicy(READY_PING_TIMEOUT_MS, tls or TlsFiles())
    client = Endpoint(label, "server", url, policy).client()
    try:
        while True:
            reason = exited()
            if reason is not None:
                raise TopologyError(f"{label} {reason}")
            try:
                if client.ping():
                    return
            except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
                pass
            if time.monotonic() > deadline:
                raise TopologyError(f"{label} at {redact_url(url)} not ready after {READY_TIMEOUT_S:g}s")
            time.sleep(0.02)
    finally:
        client.close()


def remove_orphan_workdirs() -> None:
    """Remove work dirs whose harness is gone: a SIGKILL skips the clean-up (its servers die with it)."""
    for workdir in Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}*-*"):
        owner = workdir.name.removeprefix(WORKDIR_PREFIX).split("-", 1)[0]
        if owner.isdigit() and not psutil.pid_exists(int(owner)):
            shutil.rmtree(workdir, ignore_errors=True)


def _popen(args: list[str]) -> subprocess.Popen[bytes]:
    # Held while forking: a Ctrl-C then lands once the server is in self.servers, ours to stop.
    with teardown_signals_held():
        return subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            # Own session: a terminal Ctrl-C reaches only the harness, which then stops servers in order.
            start_new_session=True,
            preexec_fn=child_preexec,  # noqa: PLW1509 - prctl must run in the child before exec
        )


def _block_teardown_signals() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, TEARDOWN_SIGNALS)


# The parent-death signal fires when the *thread* that forked a child ends, not the process: a
# server restarted from a short-lived thread (a fault scheduler's) died with it. Restarts fork
# from this one thread instead, which lives as long as the harness.
_KEEPER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spawner", initializer=_block_teardown_signals)


class LocalServers:
    """Servers on free 127.0.0.1 ports, without persistence, each in its own dir under a temporary work dir.

    ``extra_args()`` is called for each server, so each can get fresh values (a free cluster bus
    port), and goes after the harness's own arguments; relative paths in it (a cluster config file)
    land in the server's own dir, so removing the work dir removes them too.
    """

    def __init__(
        self,
        binary: ServerBinary,
        names: list[str],
        bind: str = "127.0.0.1",
        extra_args: Callable[[], tuple[str, ...]] = tuple,
        *,
        tls: bool = False,
    ) -> None:
        """Args:
        tls: every server speaks TLS only, with certificates from a CA made for these servers
            (``certificates``, in the work dir: gone with it).
        """
        self.binary = binary
        self.names = names
        self.bind = bind
        self.extra_args = extra_args
        self.tls = tls
        self.certificates: ServerCertificates | None = None
        self.servers: list[ServerProcess] = []
        self._workdir: Path | None = None

    def start(self) -> list[ServerProcess]:
        """Start every server and wait until each answers PING; on any failure stop them all."""
        remove_orphan_workdirs()
        self._workdir = Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-"))
        try:
            if self.tls:
                self.certificates = make_certificates(self._workdir / "tls")
            for name in self.names:
                self.servers.append(self._start_one(name))
        except BaseException:
            self.stop()
            raise
        return self.servers

    def _start_one(self, name: str) -> ServerProcess:
        # free_port() can race with another program grabbing the port; a fresh port fixes that.
        for attempt in range(PORT_ATTEMPTS):
            server = self._spawn(name, attempt)
            try:
                self._wait_ready(server, time.monotonic() + READY_TIMEOUT_S)
            except TopologyError:
                if "in use" in server.last_log_line() and attempt + 1 < PORT_ATTEMPTS:
                    server.process.wait()
                    continue
                self.servers.append(server)
                raise
            return server
        raise AssertionError("unreachable")

    def _spawn(self, name: str, attempt: int) -> ServerProcess:
        assert self._workdir is not None
        node_dir = self._workdir / f"{name}.{attempt}"
        node_dir.mkdir()
        log_path = node_dir / "server.log"
        port = free_port()
        # With TLS the plain port is off (0): a client that forgets TLS is refused, not served in clear.
        ports = ["--port", "0", "--tls-port", str(port)] if self.certificates else ["--port", str(port)]
        args = [
            self.binary.path,
            *ports,
            *(self.certificates.server_args() if self.certificates else ()),
            "--bind",
            self.bind,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(node_dir),
            "--logfile",
            str(log_path),
            "--daemonize",
            "no",
            *self.extra_args(),
        ]
        return ServerProcess(
            name=name, port=port, process=_popen(args), log_path=log_path, args=tuple(args), tls=self.tls
        )

    def restart(self, name: str) -> ServerProcess:
        """Start the (killed) server ``name`` again with its command line: same port, same dir, empty.

        Waits until it answers PING; the old process must be gone (its port free).
        """
        index, old = next((i, s) for i, s in enumerate(self.servers) if s.name == name)
        if old.process.poll() is None:
            raise TopologyError(f"{name} is still running (pid {old.process.pid}): kill it before a restart")
        process = _KEEPER.submit(_popen, list(old.args)).result()
        server = ServerProcess(name, old.port, process, old.log_path, old.args, old.tls)
        self.servers[index] = server  # ours to stop from here on, even if it never gets ready
        self._wait_ready(server, time.monotonic() + READY_TIMEOUT_S)
        return server

    def _wait_ready(self, server: ServerProcess, deadline: float) -> None:
        def exited() -> str | None:
            if server.process.poll() is None:
                return None
            return f"exited with code {server.process.returncode}: {server.last_log_line()}"

        wait_for_ping(f"{self.binary.name} for {server.name}", server.url, deadline, exited, self.client_tls)

    @property
    def client_tls(self) -> TlsFiles:
        """What a client of these servers checks them against: the run's CA (none without TLS)."""
        return self.certificates.client_tls if self.certificates else TlsFiles()

    def stop(self) -> None:
        """Stop every server (TERM, then KILL after a grace period) and remove the work dir."""
        for server in self.servers:
            if server.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    # A server stalled by a fault (SIGSTOP) would hold its SIGTERM until the grace ran out.
                    server.process.send_signal(signal.SIGCONT)
                    server.process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for server in self.servers:
            try:
                server.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()
        self.servers = []
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
