"""Locust users that play the application server: each talks to Redis directly through one strategy.

Started by ``lbbench compare``. The master (or the only process) reads the strategy, topology and
pacing from its ``--lbbench-config`` argument, which defaults to ``$LBBENCH_LOAD_CONFIG``; Locust
hands the master's custom arguments to every worker in each spawn message, so a worker learns its
phase at test_start and one on another host (``lbbench-worker``) needs no variable but a node
password, which never travels (bench/run/credentials.py). With the
variable set the file also runs under plain ``locust -f`` (web UI). Each load-generating process
records µs HDR histograms per 1-s interval and sends them to the master (or keeps them, when it is
the only process); the master writes ``intervals.jsonl`` and ``workers.json`` when the test stops.
The run ends itself after ``duration_s`` so that every worker's last report is in before the master
writes anything.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import gevent
import gevent.event
from locust import User, constant, events, task
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from bench.run.credentials import MissingPassword, with_passwords, without_passwords
from bench.run.loadconfig import LOAD_CONFIG_ENV, PHASE_ERROR_MARKER
from bench.strategies import Strategy
from bench.wire.failure import forget_frames
from loadgen.process import MSG_FINAL, MSG_INTERVAL, MSG_WINDOW, Collector, LoadProcess, report_to_locust
from loadgen.roles import CONFIG_ARG, MSG_WORKER_FAILED, LoadPhase, MasterSide, watch_master, worker_slot
from runfiles import PhaseFiles

STOP_GRACE_S = 1.0
# Users wait this long at most for the others to connect before the window opens regardless.
READY_WAIT_S = 30.0
AFTER_WINDOW_S = 0.1
logger = logging.getLogger(__name__)


class _State:
    """This process's phase and role objects, created by Locust's events.

    The master and a single process resolve the phase at init; a worker at each test_start, from
    what the master sent with it.
    """

    phase: LoadPhase | None = None
    collector: Collector | None = None
    process: LoadProcess | None = None
    master: MasterSide | None = None
    finishing: gevent.Greenlet | None = None  # the count-down to the end of the run, once started


STATE = _State()


def _add_arguments(parser: Any, **_: Any) -> None:
    # No default here: --help would print it, and the config may hold passwords. Read at init.
    parser.add_argument(
        f"--{CONFIG_ARG.replace('_', '-')}",
        include_in_web_ui=False,
        help=f"the phase's load config as JSON (default: ${LOAD_CONFIG_ENV}); a master passes it on",
    )


def _fail(message: str) -> NoReturn:
    """Why the phase cannot run, in the line bench quotes (bench/run/phase.py), then exit 1."""
    logger.error("%s%s", PHASE_ERROR_MARKER, message)
    sys.exit(1)


def _on_init(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        watch_master(environment, runner)
        return
    options = environment.parsed_options
    text = getattr(options, CONFIG_ARG, None) or os.environ.get(LOAD_CONFIG_ENV)
    if not text:
        _fail(f"{LOAD_CONFIG_ENV} is not set: start Locust through `lbbench compare`")
    STATE.phase = LoadPhase.resolve(text, None)
    if options is not None:
        # What Locust sends to the workers with each spawn message, in the clear: no password in it.
        setattr(options, CONFIG_ARG, without_passwords(text))
    collector = STATE.collector = Collector()
    if isinstance(runner, MasterRunner):
        runner.register_message(MSG_INTERVAL, collector.on_interval)
        runner.register_message(MSG_FINAL, collector.on_final)
        runner.register_message(MSG_WINDOW, collector.on_window_message)
        STATE.master = MasterSide(environment, runner, STATE.phase.config, _fail)


def _finish(environment: Environment) -> None:
    # runner.stop() on a master waits until every worker reported "stopped", and each worker sends
    # its final report before that, so all reports are in when test_stop writes them.
    runner = environment.runner
    assert runner is not None
    runner.stop()
    runner.quit()


def _join(environment: Environment, runner: WorkerRunner) -> None:
    """A worker's test_start: take the phase the master sent and the slot it was given."""
    STATE.process = None  # a worker kept for another test (web UI) starts from nothing
    text = getattr(environment.parsed_options, CONFIG_ARG, None)
    try:
        text = text and with_passwords(text, os.environ)
    except MissingPassword as exc:
        logger.error("%s%s", PHASE_ERROR_MARKER, exc)
        runner.send_message(MSG_WORKER_FAILED, {"reason": str(exc)})  # the master fails the phase
        return
    STATE.phase = phase = LoadPhase.resolve(text, STATE.phase)
    slot = worker_slot(environment, runner)
    if slot is None:
        # Joined after the load had started: Locust gave it users anyway, which sit idle. The
        # master fails the phase (its load was redistributed mid-run); this worker just waits.
        logger.error("the master started %s without this worker; sitting it out", phase.config.strategy)
        return
    STATE.process = LoadProcess(environment, None, phase.config, slot)
    STATE.process.start()
    phase.announce(runner, slot)


def _on_test_start(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        _join(environment, runner)
        return
    assert STATE.phase is not None, "init resolved the phase"
    if isinstance(runner, MasterRunner):
        assert STATE.master is not None
        STATE.master.assign_slots()
    else:
        STATE.process = LoadProcess(environment, STATE.collector, STATE.phase.config)
        STATE.process.start()
    if environment.parsed_options and environment.parsed_options.headless:
        # The count-down starts once every process's window is open (their users all connected),
        # or after READY_WAIT_S whatever happened; users stop sending when their own window closes,
        # and the grace lets the last replies arrive.
        processes = len(STATE.master.slots or {}) if STATE.master is not None else 1
        assert STATE.collector is not None

        def on_window(opened: int) -> None:
            if opened >= processes:
                _count_down(environment)

        STATE.collector.on_window = on_window
        gevent.spawn_later(READY_WAIT_S, _count_down, environment)


def _count_down(environment: Environment) -> None:
    if STATE.finishing is None:
        assert STATE.phase is not None
        STATE.finishing = gevent.spawn_later(
            STATE.phase.config.duration_s + STOP_GRACE_S, _finish, environment
        )


def _on_spawning_complete(**_: Any) -> None:
    if STATE.process is not None:
        STATE.process.spawning_complete()


def _on_test_stop(environment: Environment, **_: Any) -> None:
    if STATE.process is not None and not isinstance(environment.runner, MasterRunner):
        STATE.process.stop()
    if STATE.collector is not None and STATE.phase is not None:
        STATE.collector.write(PhaseFiles(Path(STATE.phase.config.raw_dir)))
    if STATE.master is not None:
        STATE.master.check_workers()


events.init_command_line_parser.add_listener(_add_arguments)
events.init.add_listener(_on_init)
events.test_start.add_listener(_on_test_start)
events.test_stop.add_listener(_on_test_stop)
events.spawning_complete.add_listener(_on_spawning_complete)


def _busy_wait(duration_ns: int) -> None:
    """Spin on the CPU, holding the gevent hub as slower code in the read path would (no sleep)."""
    until_ns = time.perf_counter_ns() + duration_ns
    while time.perf_counter_ns() < until_ns:
        pass


class LeaderboardUser(User):
    """One application server asking for the global top n, paced by the schedule or back to back."""

    wait_time = constant(0)
    strategy: Strategy

    def on_start(self) -> None:
        process, phase = STATE.process, STATE.phase
        if process is None or phase is None:
            # A worker sitting this phase out (see _join): idle until Locust stops the user.
            gevent.event.Event().wait()
            return
        self.process = process
        try:
            self.strategy = phase.strategy_class(
                phase.topology,
                phase.keys,
                process.read_counter,
                policy=phase.config.failure_policy(),
                reply_times=process.reply_times,
            )
        finally:
            process.user_ready()
        self.top_n = phase.config.top_n
        self.extra_cpu_ns = phase.config.read_extra_cpu_us * 1000
        self.request_name = phase.config.request_name

    def on_stop(self) -> None:
        if hasattr(self, "strategy"):
            self.strategy.close()

    @task
    def top(self) -> None:
        if self.process.release is None:
            self.read_once()  # closed loop: Locust's own task loop, which yields between requests
            return
        # Open loop: the release wakes this user for each slot, so Locust's per-task round (task
        # choice, a gevent.sleep(0)) would only add CPU per request. Locust kills the user at the end.
        while True:
            self.read_once()

    def read_once(self) -> None:
        # Timed by hand rather than with events.request.measure: we need three instants (intended
        # start, actual send, completion) at ns resolution, and Locust's own stats round to ms.
        process = self.process
        release = process.release
        if process.t_first_request_s is None:
            process.ready.wait(READY_WAIT_S)
            if process.t_first_request_s is None:  # the first user through opens it for all
                process.open_window()
        if release is None:
            intended_ns = claimed_ns = sent_ns = time.perf_counter_ns()
        else:
            # Back once the slot is due; claimed_ns is when this user became free to take it (a slot
            # already due then waited for one: every user was busy).
            intended_ns, claimed_ns = release.take()
            sent_ns = time.perf_counter_ns()
        if intended_ns >= process.deadline_ns:
            # The window is over: stop sending and wait for the master to stop the run, so the
            # requests counted are exactly those due in the window (Locust's stop takes a while).
            gevent.sleep(AFTER_WINDOW_S)
            return
        strategy = self.strategy
        fallbacks = strategy.fallbacks
        error: BaseException | None = None
        partial = False
        process.in_flight += 1
        in_flight = process.in_flight
        try:
            partial = strategy.read(self.top_n).missing > 0
            if self.extra_cpu_ns:
                _busy_wait(self.extra_cpu_ns)
        except Exception as exc:
            forget_frames(exc)  # else each failure is a reference cycle the GC pauses the loop for
            error = exc
        finally:
            process.in_flight -= 1
        done_ns = time.perf_counter_ns()
        process.recorder.add_read(
            intended_ns,
            sent_ns,
            done_ns,
            error,
            partial=partial,
            fallback=strategy.fallbacks != fallbacks,
            claimed_ns=claimed_ns,
            in_flight=in_flight,
        )
        process.reads_done += 1
        if process.write_every and process.reads_done % process.write_every == 0:
            process.write_due.set()
        if error is not None:  # successes reach Locust's stats once per interval (loadgen/locuststats.py)
            report_to_locust(self.environment, self.request_name, done_ns - intended_ns, error)
