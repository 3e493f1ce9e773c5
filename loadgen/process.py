"""One load-generating process: pacing, recording, the background writer, and what it reports.

Each process records µs HDR histograms per 1-s interval and sends them to the master, or keeps them
when it is the only process (``Collector``); the master writes ``intervals.jsonl`` and
``workers.json`` through runfiles/ when the test stops.
"""

from __future__ import annotations

import contextlib
import gc
import math
import os
import random
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
import gevent.event
import psutil
from locust.env import Environment
from locust.runners import WorkerRunner

from bench.run.loadconfig import LoadConfig
from bench.run.writemodel import WriteModel
from bench.strategies import get_strategy
from bench.wire.counting import ByteCounter
from bench.wire.failure import forget_frames
from bench.wire.replytimes import ReplyTimes
from loadgen.locuststats import log_batch
from loadgen.pacing import Pacer, Schedule
from loadgen.pool import UserPool, share
from loadgen.recorder import IntervalRecorder
from loadgen.release import SlotRelease
from runfiles import PhaseFiles, write_json, write_jsonl

MSG_INTERVAL = "lbbench_interval"
MSG_FINAL = "lbbench_final"
MSG_WINDOW = "lbbench_window"  # a process opened its load window (every user connected)
# With every user connected and none sending yet, the process's CPU over this long is its idle
# baseline (event loop, flushes, Locust's own greenlets): what a request costs is the CPU above it.
IDLE_WINDOW_S = 1.0
# "sleep": every user gevent.sleep()s until its slot (the pacing before the timerfd release; also
# where timerfd is missing). Anything else: slots released by one kernel timer (loadgen/release.py).
PACING_ENV = "LBBENCH_PACING"


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


# A yield that lets the event loop poll: gevent.sleep(0) may resume this greenlet before the loop
# looks at its file descriptors, and a slot's release is one (the timerfd). With sleep(0) between its
# steps, the flush on each whole second (2-4 ms in all) held back the slot due with it: sent 1.7-4.6 ms
# late, once a second, and in a 6-s run at 400 req/s that alone nearly filled the 1% above the
# 2 ms generator-lag limit.
IO_YIELD_S = 1e-6
# The most a stop waits for a flush under way (one takes a few ms; a second-long one is a stuck loop).
FLUSH_FINISH_S = 1.0


def _let_io_run() -> None:
    gevent.sleep(IO_YIELD_S)


class Collector:
    """On the master (or the only process): gathers every process's interval rows and final reports."""

    def __init__(self) -> None:
        self.intervals: list[dict[str, Any]] = []
        self.finals: list[dict[str, Any]] = []
        self.windows: set[str] = set()  # processes whose load window has opened
        #: Called with the number of open windows each time one more opens.
        self.on_window: Callable[[int], None] = lambda _: None

    def on_window_message(self, msg: Any, **_: Any) -> None:
        self.window_opened(str(msg.data["worker"]))

    def window_opened(self, worker: str) -> None:
        self.windows.add(worker)
        self.on_window(len(self.windows))

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

    def __init__(
        self,
        environment: Environment,
        collector: Collector | None,
        config: LoadConfig,
        slot: tuple[int, int] = (0, 1),
    ) -> None:
        """``slot``: this process's index among the swarm's load-generating processes, and their count."""
        runner = environment.runner
        index, processes = slot
        self.environment = environment
        self.config = config
        self.name = f"w{index}" if isinstance(runner, WorkerRunner) else "local"
        self.collector = collector
        self.recorder = IntervalRecorder(self.name)
        self.read_counter = ByteCounter()
        self.reply_times = ReplyTimes(config.sample_every)  # a few reads timed shard by shard
        self.write_counter = ByteCounter()
        self.pacer = Pacer(Schedule(config.rps, processes, index)) if config.rps else None
        self.in_flight = 0  # reads sent and not yet answered, over all users
        self.pool = UserPool(share(config.max_users, index, processes), self._spawn)
        self.release = (
            None
            if self.pacer is None
            else SlotRelease(
                self.pacer,
                use_timerfd=os.environ.get(PACING_ENV) != "sleep",
                # A config without --max-users (an older master) keeps its users as they are.
                on_starved=(lambda overdue: self.pool.starved(overdue, self.in_flight))
                if config.max_users
                else None,
            )
        )
        self._dropped_sent = 0  # of the release's dropped slots, those already in an interval row
        self.reads_done = 0
        self.write_every = config.read_write_ratio or 0
        self.write_name = f"{config.strategy}.write"
        self.request_name = config.request_name
        self.write_due = gevent.event.Event()
        self.writes_done = 0
        self.write_model = WriteModel(
            self.config.players, self.config.hot_players, self.config.hot_write_share, random.Random(index)
        )
        self._psutil = psutil.Process()
        self._greenlets: list[Any] = []
        self.t_start_s = self.t_stop_s = 0.0
        self._intended: int | None = None
        self.t_first_request_s: float | None = None
        # The window opens once every user of this process has its connections (see user_ready).
        self.users_ready = 0
        self.users_spawned: int | None = None  # this process's users, once Locust spawned them all
        self.ready = gevent.event.Event()
        self._idle: gevent.Greenlet | None = None
        self.idle_cpu_s = self.idle_wall_s = 0.0
        self.window_cpu_s = self.window_wall_s = 0.0
        self.deadline_ns = 0
        self._cpu_start_s = 0.0
        self._interval_start_s = 0.0
        self._flushing = False  # an interval cut and not yet sent: killing the flush now would lose it

    def _send(self, kind: str, data: dict[str, Any]) -> None:
        if self.collector is None:
            assert self.environment.runner is not None
            self.environment.runner.send_message(kind, data)
        elif kind == MSG_INTERVAL:
            self.collector.intervals.append(data)
        elif kind == MSG_WINDOW:
            self.collector.window_opened(data["worker"])
        else:
            self.collector.finals.append(data)

    def start(self) -> None:
        self.t_start_s = self._interval_start_s = time.time()
        self._cpu_start_s = time.process_time()
        self._psutil.cpu_percent(None)
        self._greenlets = [gevent.spawn(self._flush_loop)]
        if self.config.read_write_ratio:
            self._greenlets.append(gevent.spawn(self._write_loop))

    def _flush(self, until_s: float, last: bool = False) -> None:
        # Between its steps the flush lets the requests due meanwhile go out. Not in the last flush:
        # whatever is recorded after it is never sent.
        between = (lambda: None) if last else _let_io_run
        between()  # the slot due on the whole second, with this wake-up, goes first
        self._flushing = True
        row = self.recorder.flush(
            self._interval_start_s,
            until_s - self._interval_start_s,
            self._psutil.cpu_percent(None),
            between=between,
            successes=lambda latency_us: log_batch(self.environment.stats, self.request_name, latency_us),
        )
        self._interval_start_s = until_s
        row.update(self.reply_times.drain())
        dropped = 0 if self.release is None else self.release.dropped
        row.update(
            users=self.pool.size,
            grew=[growth.to_json() for growth in self.pool.take_growths()],
            dropped=dropped - self._dropped_sent,
        )
        self._dropped_sent = dropped
        self._send(MSG_INTERVAL, row)
        self._flushing = False

    def _spawn(self, users: int) -> None:
        """``users`` more of the class Locust runs here (they connect in on_start, then take slots)."""
        runner = self.environment.runner
        assert runner is not None
        runner.spawn_users(dict.fromkeys(runner.user_classes_by_name, users))

    def _flush_loop(self) -> None:
        while True:
            # Cut intervals on whole wall-clock seconds so all processes' intervals line up.
            boundary_s = math.floor(time.time()) + 1
            gevent.sleep(max(0.0, boundary_s - time.time()))
            self._flush(float(boundary_s))

    def _write_loop(self) -> None:
        ratio = self.config.read_write_ratio or 1
        # Writes go wherever the strategy keeps scores (the shards; also the global set for `global`).
        strategy_class = get_strategy(self.config.strategy)
        writer = strategy_class(self.config.open_topology(), self.config.keys(), self.write_counter)
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
                    forget_frames(exc)  # see the reads (locustfile): no cycle for the GC per failure
                    error = exc
                done_ns = time.perf_counter_ns()
                self.recorder.add_write(sent_ns, done_ns, error)
                report_to_locust(self.environment, self.write_name, done_ns - sent_ns, error)
        finally:
            writer.close()

    def user_ready(self) -> None:
        """A user finished connecting (or failed to): the window may open once all have."""
        if self.t_first_request_s is not None:
            self.pool.joined()  # one the pool grew by, while the load runs
            return
        self.users_ready += 1
        self._check_ready()

    def spawning_complete(self) -> None:
        """Locust spawned every user (their on_start may still be connecting)."""
        runner = self.environment.runner
        self.users_spawned = runner.user_count if runner is not None else 0
        self.pool.started(self.users_spawned)
        self._check_ready()

    def _check_ready(self) -> None:
        # Hundreds of users (a fault run's default) connect to every node as they start: a second or
        # more of generator CPU. Inside the window that would be generator lag, not the system's.
        if self._idle is None and self.users_spawned is not None and self.users_ready >= self.users_spawned:
            self._idle = gevent.spawn(self._measure_idle)
            self._greenlets.append(self._idle)

    def _measure_idle(self) -> None:
        """The idle baseline (IDLE_WINDOW_S with nobody sending), then let the users start."""
        cpu_s, wall_ns = time.process_time(), time.perf_counter_ns()
        gevent.sleep(IDLE_WINDOW_S)
        self.idle_cpu_s = time.process_time() - cpu_s
        self.idle_wall_s = (time.perf_counter_ns() - wall_ns) / 1e9
        self.ready.set()

    def _measure_window(self) -> None:
        """CPU over exactly the load window: from its opening to its deadline."""
        cpu_s, wall_ns = time.process_time(), time.perf_counter_ns()
        gevent.sleep(max(0.0, (self.deadline_ns - wall_ns) / 1e9))
        self.window_cpu_s = time.process_time() - cpu_s
        self.window_wall_s = (time.perf_counter_ns() - wall_ns) / 1e9

    def open_window(self) -> None:
        """The first request opens this process's load window of exactly ``duration_s``."""
        # Every user's connections exist now: out of the cyclic GC's way, a full collection of
        # hundreds of users' objects would stop the event loop for 50-100 ms inside the window.
        gc.collect()
        gc.freeze()
        self.t_first_request_s = time.time()
        # The fault scheduler's clock (bench/faults/schedule.py): the first local process to start.
        with (
            contextlib.suppress(OSError),
            PhaseFiles(Path(self.config.raw_dir)).load_start.open("x") as marker,
        ):
            marker.write(repr(self.t_first_request_s))
        self.deadline_ns = time.perf_counter_ns() + round(self.config.duration_s * 1e9)
        if self.pacer is not None and self.release is not None:
            self.pacer.start()
            self.release.stop_ns = self.deadline_ns
            self._intended = self.pacer.schedule.slots_due(self.config.duration_s)
        self._greenlets.append(gevent.spawn(self._measure_window))
        self._send(MSG_WINDOW, {"worker": self.name})

    def stop(self) -> None:
        """Stop background work, send the last partial interval and this process's final report."""
        # A flush yields between its steps: let one under way send its row before it is killed.
        deadline_s = time.monotonic() + FLUSH_FINISH_S
        while self._flushing and time.monotonic() < deadline_s:
            gevent.sleep(IO_YIELD_S)
        gevent.killall(self._greenlets)
        if self.release is not None:
            self.release.close()
        self.t_stop_s = (self.t_first_request_s or self.t_start_s) + self.config.duration_s
        self._flush(time.time(), last=True)
        totals = self.recorder.totals
        self._send(
            MSG_FINAL,
            {
                "worker": self.name,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "requests": totals["requests"],
                "failures": totals["failures"],
                "partial": totals["partial"],
                "fallbacks": totals["fallbacks"],
                "writes": totals["writes"],
                "write_failures": totals["write_failures"],
                "cpu_s": time.process_time() - self._cpu_start_s,
                "idle_cpu_s": self.idle_cpu_s,
                "idle_wall_s": self.idle_wall_s,
                "window_cpu_s": self.window_cpu_s,
                "window_wall_s": self.window_wall_s,
                # The load window opens with the first request (after users spawned), not at test_start.
                "t_start_s": self.t_first_request_s or self.t_start_s,
                "t_stop_s": self.t_stop_s,
                "intended": self._intended,
                "client": {
                    "read_commands": self.read_counter.commands,
                    "read_bytes_sent": self.read_counter.bytes_sent,
                    "read_bytes_received": self.read_counter.bytes_received,
                    "read_redirects": self.read_counter.redirects,
                    "write_commands": self.write_counter.commands,
                    "write_bytes_sent": self.write_counter.bytes_sent,
                    "write_bytes_received": self.write_counter.bytes_received,
                },
                "errors": dict(self.recorder.errors.most_common(20)),
                "gevent_backend": str(gevent.get_hub().loop.backend),
                "pacing": None if self.release is None else self.release.mode,
                "users_start": self.pool.start,
                "users_end": self.pool.size,
                "max_users": self.pool.max_size,
                "dropped": 0 if self.release is None else self.release.dropped,
            },
        )
