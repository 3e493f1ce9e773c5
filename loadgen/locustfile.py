"""Locust users that play the application server: each talks to Redis directly through one strategy.

Started by ``lbbench compare`` with the strategy, topology and pacing in ``$LBBENCH_LOAD_CONFIG``;
with the same variable set it also runs under plain ``locust -f`` (web UI) or as a remote
``locust --worker``. Each load-generating process records µs HDR histograms per 1-s interval and
sends them to the master (or keeps them, when it is the only process); the master writes
``intervals.jsonl`` and ``workers.json`` when the test stops. The run ends itself after
``duration_s`` so that every worker's last report is in before the master writes anything.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import gevent
from locust import User, constant, events, task
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from analysis.runfiles import PhaseFiles
from bench.run.loadconfig import LoadConfig
from bench.strategies import Strategy, get_strategy
from loadgen.process import MSG_FINAL, MSG_INTERVAL, Collector, LoadProcess, report_to_locust

STOP_GRACE_S = 1.0
AFTER_WINDOW_S = 0.1
CONFIG = LoadConfig.from_env()
TOPOLOGY = CONFIG.open_topology()
KEYS = CONFIG.keys()
STRATEGY_CLASS = get_strategy(CONFIG.strategy)
REQUEST_NAME = CONFIG.request_name


class _State:
    """This process's role objects, created by Locust's events."""

    collector: Collector | None = None
    process: LoadProcess | None = None


STATE = _State()


def _on_init(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        return
    collector = STATE.collector = Collector()
    if isinstance(runner, MasterRunner):
        runner.register_message(MSG_INTERVAL, collector.on_interval)
        runner.register_message(MSG_FINAL, collector.on_final)


def _finish(environment: Environment) -> None:
    # runner.stop() on a master waits until every worker reported "stopped", and each worker sends
    # its final report before that, so all reports are in when test_stop writes them.
    runner = environment.runner
    assert runner is not None
    runner.stop()
    runner.quit()


def _on_test_start(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if not isinstance(runner, MasterRunner):
        STATE.process = LoadProcess(environment, STATE.collector, CONFIG)
        STATE.process.start()
    if (
        not isinstance(runner, WorkerRunner)
        and environment.parsed_options
        and environment.parsed_options.headless
    ):
        # Users stop sending when their window closes; the grace lets the last replies arrive.
        gevent.spawn_later(CONFIG.duration_s + STOP_GRACE_S, _finish, environment)


def _on_test_stop(environment: Environment, **_: Any) -> None:
    if STATE.process is not None and not isinstance(environment.runner, MasterRunner):
        STATE.process.stop()
    if STATE.collector is not None:
        STATE.collector.write(PhaseFiles(Path(CONFIG.raw_dir)))


events.init.add_listener(_on_init)
events.test_start.add_listener(_on_test_start)
events.test_stop.add_listener(_on_test_stop)


class LeaderboardUser(User):
    """One application server asking for the global top n, paced by the schedule or back to back."""

    wait_time = constant(0)

    def on_start(self) -> None:
        process = STATE.process
        assert process is not None, "users start after test_start created the load process"
        self.process = process
        self.strategy: Strategy = STRATEGY_CLASS(TOPOLOGY, KEYS, process.read_counter)
        self.top_n = CONFIG.top_n

    def on_stop(self) -> None:
        self.strategy.close()

    @task
    def top(self) -> None:
        # Timed by hand rather than with events.request.measure: we need three instants (intended
        # start, actual send, completion) at ns resolution, and Locust's own stats round to ms.
        process = self.process
        pacer = process.pacer
        if process.t_first_request_s is None:
            process.open_window()
        if pacer is None:
            intended_ns = sent_ns = time.perf_counter_ns()
        else:
            intended_ns = pacer.claim()
        if intended_ns >= process.deadline_ns:
            # The window is over: stop sending and wait for the master to stop the run, so the
            # requests counted are exactly those due in the window (Locust's stop takes a while).
            gevent.sleep(AFTER_WINDOW_S)
            return
        if pacer is not None:
            wait_ns = intended_ns - time.perf_counter_ns()
            if wait_ns > 0:
                gevent.sleep(wait_ns / 1e9)
            sent_ns = time.perf_counter_ns()
        error: BaseException | None = None
        try:
            self.strategy.read(self.top_n)
        except Exception as exc:
            error = exc
        done_ns = time.perf_counter_ns()
        process.recorder.add_read(intended_ns, sent_ns, done_ns, error)
        process.reads_done += 1
        if process.write_every and process.reads_done % process.write_every == 0:
            process.write_due.set()
        report_to_locust(self.environment, REQUEST_NAME, done_ns - intended_ns, error)
