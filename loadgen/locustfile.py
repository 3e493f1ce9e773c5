"""Locust users that play the application server: each talks to Redis directly through one strategy.

Started by ``lbbench compare`` with the strategy, topology and pacing in ``$LBBENCH_LOAD_CONFIG``;
with the same variable set it also runs under plain ``locust -f`` (web UI) or as a remote
``locust --worker``. Each load-generating process records µs HDR histograms per 1-s interval and
sends them to the master (or keeps them, when it is the only process); the master writes
``intervals.jsonl`` and ``workers.json`` when the test stops. The run ends itself after
``duration_s`` so that every worker's last report is in before the master writes anything.
"""

from __future__ import annotations

import math
import os
import random
import socket
import time
from pathlib import Path
from typing import Any

import gevent
import gevent.event
import psutil
from locust import User, constant, events, task
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from analysis.runfiles import PhaseFiles, write_json, write_jsonl
from bench.run.loadconfig import LoadConfig
from bench.run.writemodel import WriteModel
from bench.strategies import Strategy, get_strategy
from bench.wire.counting import ByteCounter
from loadgen.pacing import Pacer, Schedule
from loadgen.recorder import IntervalRecorder

MSG_INTERVAL = "lbbench_interval"
MSG_FINAL = "lbbench_final"
STOP_GRACE_S = 1.0
AFTER_WINDOW_S = 0.1
CONFIG = LoadConfig.from_env()
TOPOLOGY = CONFIG.open_topology()
KEYS = CONFIG.keys()
STRATEGY_CLASS = get_strategy(CONFIG.strategy)
REQUEST_NAME = CONFIG.request_name
WRITE_NAME = f"{CONFIG.strategy}.write"


def report_to_locust(
    environment: Environment, name: str, elapsed_ns: int, error: BaseException | None
) -> None:
    """Feed Locust's own stats (its UI and CSVs); the report uses our HDR histograms instead."""
    environment.events.request.fire(
        request_type="redis",
        name=name,
        response_time=elapsed_ns / 1e6,
        response_length=0,
        exception=error,
        context={},
    )


class Collector:
    """On the master (or the only process): gathers every process's interval rows and final reports."""

    def __init__(self) -> None:
        self.intervals: list[dict[str, Any]] = []
        self.finals: list[dict[str, Any]] = []

    def on_interval(self, msg: Any, **_: Any) -> None:
        self.intervals.append(msg.data)

    def on_final(self, msg: Any, **_: Any) -> None:
        self.finals.append(msg.data)

    def write(self, files: PhaseFiles) -> None:
        files.dir.mkdir(parents=True, exist_ok=True)
        write_jsonl(files.intervals, sorted(self.intervals, key=lambda r: (r["t_s"], r["worker"])))
        write_json(files.workers, self.finals)


class LoadProcess:
    """The load-generating side of one process: pacing, recording, the writer, interval flushes."""

    def __init__(self, environment: Environment, collector: Collector | None) -> None:
        runner = environment.runner
        index = runner.worker_index if isinstance(runner, WorkerRunner) else 0
        self.environment = environment
        self.name = f"w{index}" if isinstance(runner, WorkerRunner) else "local"
        self.collector = collector
        self.recorder = IntervalRecorder(self.name)
        self.read_counter = ByteCounter()
        self.write_counter = ByteCounter()
        self.pacer = Pacer(Schedule(CONFIG.rps, CONFIG.workers, index)) if CONFIG.rps else None
        self.reads_done = 0
        self.write_every = CONFIG.read_write_ratio or 0
        self.write_due = gevent.event.Event()
        self.writes_done = 0
        self.write_model = WriteModel(
            CONFIG.players, CONFIG.hot_players, CONFIG.hot_write_share, random.Random(index)
        )
        self._psutil = psutil.Process()
        self._greenlets: list[Any] = []
        self.t_start_s = self.t_stop_s = 0.0
        self._intended: int | None = None
        self.t_first_request_s: float | None = None
        self.deadline_ns = 0
        self._cpu_start_s = 0.0
        self._interval_start_s = 0.0

    def _send(self, kind: str, data: dict[str, Any]) -> None:
        if self.collector is None:
            assert self.environment.runner is not None
            self.environment.runner.send_message(kind, data)
        elif kind == MSG_INTERVAL:
            self.collector.intervals.append(data)
        else:
            self.collector.finals.append(data)

    def start(self) -> None:
        self.t_start_s = self._interval_start_s = time.time()
        self._cpu_start_s = time.process_time()
        self._psutil.cpu_percent(None)
        self._greenlets = [gevent.spawn(self._flush_loop)]
        if CONFIG.read_write_ratio:
            self._greenlets.append(gevent.spawn(self._write_loop))

    def _flush(self, until_s: float) -> None:
        row = self.recorder.flush(
            self._interval_start_s, until_s - self._interval_start_s, self._psutil.cpu_percent(None)
        )
        self._interval_start_s = until_s
        self._send(MSG_INTERVAL, row)

    def _flush_loop(self) -> None:
        while True:
            # Cut intervals on whole wall-clock seconds so all processes' intervals line up.
            boundary_s = math.floor(time.time()) + 1
            gevent.sleep(max(0.0, boundary_s - time.time()))
            self._flush(float(boundary_s))

    def _write_loop(self) -> None:
        ratio = CONFIG.read_write_ratio or 1
        # Writes go wherever the strategy keeps scores (the shards; also the global set for `global`).
        writer = STRATEGY_CLASS(TOPOLOGY, KEYS, self.write_counter)
        try:
            while True:
                if self.writes_done >= self.reads_done // ratio:
                    # Woken by the read that completes each ratio-th request; polling cost a
                    # wake-up every few ms even when no write was due.
                    self.write_due.wait()
                    self.write_due.clear()
                    continue
                self.writes_done += 1
                player, delta = self.write_model.next_write()
                sent_ns = time.perf_counter_ns()
                error: BaseException | None = None
                try:
                    self.write_model.observe(player, writer.submit(player, delta))
                except Exception as exc:
                    error = exc
                done_ns = time.perf_counter_ns()
                self.recorder.add_write(sent_ns, done_ns, error)
                report_to_locust(self.environment, WRITE_NAME, done_ns - sent_ns, error)
        finally:
            writer.close()

    def open_window(self) -> None:
        """The first request opens this process's load window of exactly ``duration_s``."""
        self.t_first_request_s = time.time()
        self.deadline_ns = time.perf_counter_ns() + round(CONFIG.duration_s * 1e9)
        if self.pacer is not None:
            self.pacer.start()
            self._intended = self.pacer.schedule.slots_due(CONFIG.duration_s)

    def stop(self) -> None:
        """Stop background work, send the last partial interval and this process's final report."""
        gevent.killall(self._greenlets)
        self.t_stop_s = (self.t_first_request_s or self.t_start_s) + CONFIG.duration_s
        self._flush(time.time())
        totals = self.recorder.totals
        self._send(
            MSG_FINAL,
            {
                "worker": self.name,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "requests": totals["requests"],
                "failures": totals["failures"],
                "writes": totals["writes"],
                "write_failures": totals["write_failures"],
                "cpu_s": time.process_time() - self._cpu_start_s,
                # The load window opens with the first request (after users spawned), not at test_start.
                "t_start_s": self.t_first_request_s or self.t_start_s,
                "t_stop_s": self.t_stop_s,
                "intended": self._intended,
                "client": {
                    "read_commands": self.read_counter.commands,
                    "read_bytes_sent": self.read_counter.bytes_sent,
                    "read_bytes_received": self.read_counter.bytes_received,
                    "write_commands": self.write_counter.commands,
                    "write_bytes_sent": self.write_counter.bytes_sent,
                    "write_bytes_received": self.write_counter.bytes_received,
                },
                "errors": dict(self.recorder.errors.most_common(20)),
                "gevent_backend": str(gevent.get_hub().loop.backend),
            },
        )


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
        STATE.process = LoadProcess(environment, STATE.collector)
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
