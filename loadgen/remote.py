"""`lbbench-worker`: run once on a load-generator host; joins every phase of an `lbbench compare` master.

A Locust worker serves one test: it exits when the master quits at the end of a phase, when the
master is gone, or when no master answered for 5 minutes (Locust's 60 connection retries 5 s
apart; a worker started before the master simply waits, and joins the moment the master binds).
This loop starts a fresh worker after each exit, until SIGTERM or SIGINT, which stop the worker and
exit 0. It starts ``python -m locust --worker`` as a child and never imports locust itself, which
would patch gevent into this process for nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, NoReturn

from bench.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from bench.run.credentials import PASSWORD_ENV, PASSWORD_FILE_ENV
from bench.run.swarm import GEVENT_BACKEND, USER_CLASS
from bench.threads import (
    TEARDOWN_SIGNALS,
    Terminated,
    background_thread,
    install_teardown_handlers,
    teardown_signals_held,
)
from bench.topology.processes import child_preexec
from bench.units import parse_duration

# What a worker prints on stdout when it joins a phase (loadgen/roles.py); the loop counts these.
PHASE_JOINED = "lbbench-worker: joined "
# Locust's own environment variables for a worker's master, so a host set up for plain Locust works.
MASTER_HOST_ENV, MASTER_PORT_ENV = "LOCUST_MASTER_NODE_HOST", "LOCUST_MASTER_NODE_PORT"
DEFAULT_MASTER_PORT = 5557  # Locust's
# A master kills its listener 0.5 s after telling its workers to quit: a worker started sooner could
# be acknowledged by that dying master and then wait for it (loadgen/roles.py MASTER_SILENCE_S).
RESTART_PAUSE_S = 2.0
# A worker that fails within QUICK_EXIT_S without joining (a broken install, a refused address)
# is restarted after a pause that doubles up to MAX_PAUSE_S, rather than in a tight loop.
QUICK_EXIT_S = 10.0
MAX_PAUSE_S = 30.0
STOP_GRACE_S = 10.0
POLL_S = 0.5


def _usage_error(message: str) -> NoReturn:
    print(f"lbbench-worker: error: {message}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


def _phases(n: int) -> str:
    return "1 phase" if n == 1 else f"{n} phases"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="lbbench-worker",
        description="Join every phase of an `lbbench compare --remote-workers N` master as a Locust worker.",
    )
    parser.add_argument(
        "--master-host",
        default=os.environ.get(MASTER_HOST_ENV, "127.0.0.1"),
        help=f"the master's host (default ${MASTER_HOST_ENV}, else 127.0.0.1)",
    )
    parser.add_argument(
        "--master-port",
        default=os.environ.get(MASTER_PORT_ENV, str(DEFAULT_MASTER_PORT)),
        help=f"the port of compare's --master-bind (default ${MASTER_PORT_ENV}, else {DEFAULT_MASTER_PORT})",
    )
    parser.add_argument(
        "--max-idle-s",
        metavar="TIME",
        help="exit after this long outside a phase, e.g. 90s or 2m (a bare number is seconds; exit 0 if"
        " it joined one, 1 if none; default: never)",
    )
    parser.add_argument(
        "--password-file",
        metavar="PATH",
        help=f"a file holding the nodes' password, one line (default ${PASSWORD_ENV}; the master never"
        " sends one)",
    )
    args = parser.parse_args(argv)
    if args.password_file is not None:
        path = Path(args.password_file)
        try:
            path.read_bytes()
        except OSError as exc:
            _usage_error(f"--password-file: cannot read {path}: {exc.strerror}")
        args.password_file = str(path.resolve())
    if not args.master_host.strip():
        _usage_error("--master-host must not be empty")
    try:
        args.master_port = int(args.master_port)
    except ValueError:
        _usage_error(f"--master-port must be an integer, got {args.master_port!r}")
    if not 1 <= args.master_port <= 65535:
        _usage_error(f"--master-port must be between 1 and 65535, got {args.master_port}")
    if args.max_idle_s is not None:
        try:
            args.max_idle_s = parse_duration(args.max_idle_s)
        except ValueError as exc:
            _usage_error(f"--max-idle-s: {exc}")
        if not args.max_idle_s > 0:
            _usage_error(f"--max-idle-s must be positive, got {args.max_idle_s:g}")
    return args


class WorkerLoop:
    """Starts Locust workers one after another and counts the phases they join."""

    def __init__(
        self, master_host: str, master_port: int, max_idle_s: float | None, password_file: str | None = None
    ) -> None:
        self.master = f"{master_host}:{master_port}"
        self.command = [
            sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name("locustfile.py")),
            "--worker", "--master-host", master_host, "--master-port", str(master_port),
            "--loglevel", "WARNING", USER_CLASS,
        ]  # fmt: skip
        self.max_idle_s = max_idle_s
        # The path, not the password: the worker reads it when a phase needs it (bench/run/credentials.py).
        self.password_file = password_file
        self.child: subprocess.Popen[str] | None = None
        self.phases = 0
        self.in_phase = False  # set by the reader thread when the worker prints that it joined

    def _forward(self, stream: IO[str]) -> None:
        """Pass the worker's stdout through, noting each phase it joins (runs in a thread)."""
        for line in stream:
            if line.startswith(PHASE_JOINED):
                self.phases += 1
                self.in_phase = True
            print(line, end="", flush=True)

    def _start(self) -> tuple[subprocess.Popen[str], threading.Thread]:
        env = {**os.environ}
        env.setdefault("GEVENT_BACKEND", GEVENT_BACKEND)
        if self.password_file is not None:
            env[PASSWORD_FILE_ENV] = self.password_file
        self.in_phase = False
        # Held while forking (bench/threads.py): a SIGTERM then lands once self.child is set.
        with teardown_signals_held():
            child = self.child = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                env=env,
                text=True,
                # Its own group: a Ctrl-C at the terminal reaches this loop only, which stops the worker.
                process_group=0,
                preexec_fn=child_preexec,  # noqa: PLW1509 - must run in the child before exec
            )
        stdout = child.stdout
        assert stdout is not None
        reader = background_thread(lambda: self._forward(stdout), "worker-stdout")
        reader.start()
        return child, reader

    def stop_child(self) -> None:
        child, self.child = self.child, None
        if child is None or child.poll() is not None:
            return
        # SIGTERM lets Locust tell the master it quits; SIGKILL if it does not go.
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    def run(self) -> int:
        """Until a signal (raised as KeyboardInterrupt/Terminated) or --max-idle-s outside a phase."""
        print(f"lbbench-worker: joining the phases of the master at {self.master}", file=sys.stderr)
        idle_since: float | None = time.monotonic()  # None while a worker is in a phase
        pause_s = RESTART_PAUSE_S
        while True:
            started = time.monotonic()
            child, reader = self._start()
            while child.poll() is None:
                if self.in_phase:
                    idle_since = None
                elif idle_since is not None and self._idle_too_long(idle_since):
                    self.stop_child()
                    return self._give_up()
                time.sleep(POLL_S)
            reader.join(timeout=STOP_GRACE_S)  # its last lines, the join line among them
            self.child = None
            ran_s = time.monotonic() - started
            if self.in_phase or idle_since is None:
                idle_since, pause_s = time.monotonic(), RESTART_PAUSE_S
            elif child.returncode != 0 and ran_s < QUICK_EXIT_S:
                print(
                    f"lbbench-worker: the Locust worker exited with code {child.returncode} after "
                    f"{ran_s:.1f} s; next try in {pause_s:g} s",
                    file=sys.stderr,
                )
                time.sleep(pause_s)
                pause_s = min(2 * pause_s, MAX_PAUSE_S)
                continue
            time.sleep(RESTART_PAUSE_S)

    def _idle_too_long(self, idle_since: float) -> bool:
        return self.max_idle_s is not None and time.monotonic() - idle_since > self.max_idle_s

    def _give_up(self) -> int:
        idle = f"{self.max_idle_s:g} s"
        if self.phases:
            print(f"lbbench-worker: joined {_phases(self.phases)}, none for {idle}; exiting", file=sys.stderr)
            return EXIT_OK
        print(f"lbbench-worker: no phase from the master at {self.master} within {idle}", file=sys.stderr)
        return EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `lbbench-worker` console script."""
    args = parse_args(argv)
    install_teardown_handlers()
    loop = WorkerLoop(args.master_host, args.master_port, args.max_idle_s, args.password_file)
    try:
        return loop.run()
    except (KeyboardInterrupt, Terminated):
        print(f"lbbench-worker: stopped after {_phases(loop.phases)}", file=sys.stderr)
        return EXIT_OK
    finally:
        # A second Ctrl-C or SIGTERM must not cut the worker's stop short.
        signal.pthread_sigmask(signal.SIG_BLOCK, TEARDOWN_SIGNALS)
        loop.stop_child()


def run() -> NoReturn:
    sys.exit(main())


if __name__ == "__main__":
    run()
