"""What a Locust process does besides generating load: the phase it runs, the master's bookkeeping of
its workers (pacing slots, the wait for them, latecomers), and a worker's watch on its master.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import gevent
from locust.env import Environment
from locust.runners import STATE_RUNNING, STATE_SPAWNING, MasterRunner, WorkerRunner

from bench.keys import Keys
from bench.run.loadconfig import PHASE_ERROR_MARKER, LoadConfig
from bench.strategies import Strategy, get_strategy
from bench.topology import Topology
from loadgen.remote import PHASE_JOINED

# The custom Locust argument (its dest) that carries the LoadConfig JSON from the master to workers.
CONFIG_ARG = "lbbench_config"
# Set on the master's parsed options at test_start, so that it reaches every worker with the spawn
# message: {client id: pacing slot}. Locust's own worker_index is not usable as the slot: the master
# hands out a new index to every worker that ever connected, so one that reconnected while the
# master waited would get index N and fall outside the N slots.
SLOTS_ARG = "lbbench_slots"
# A master answers each worker heartbeat (one a second). Locust's own check waits 60 s, and only
# once a heartbeat has arrived: a worker acknowledged by a master that quit right after would wait
# forever, never joining the next phase's master.
MASTER_SILENCE_S = 15.0
# A worker that cannot run the phase it was sent (no password for a node) tells the master why.
MSG_WORKER_FAILED = "lbbench_worker_failed"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadPhase:
    """One strategy's phase as a load-generating process sees it."""

    text: str  # the LoadConfig JSON it came from
    config: LoadConfig
    topology: Topology
    keys: Keys
    strategy_class: type[Strategy]

    @classmethod
    def resolve(cls, text: str | None, previous: LoadPhase | None) -> LoadPhase:
        """The phase ``text`` describes; ``previous`` again when the text did not change."""
        if previous is not None and previous.text == text:
            return previous
        config = LoadConfig.from_json(text)
        assert text is not None  # from_json refuses an empty one
        return cls(text, config, config.open_topology(), config.keys(), get_strategy(config.strategy))

    def announce(self, runner: WorkerRunner, slot: tuple[int, int]) -> None:
        """One stdout line per phase joined (lbbench-worker watches for it)."""
        config, (index, processes) = self.config, slot
        pace = f"{config.rps:g} req/s in total" if config.rps else "closed loop"
        master = f"{runner.master_host}:{runner.master_port}"
        print(
            f"{PHASE_JOINED}{config.strategy} as w{index} of {processes} ({pace}, {config.duration_s:g} s)"
            f" from master {master}",
            flush=True,
        )


def worker_slot(environment: Environment, runner: WorkerRunner) -> tuple[int, int] | None:
    """(this worker's pacing slot, the number of slots), or None if the load started without it."""
    slots: dict[str, int] = getattr(environment.parsed_options, SLOTS_ARG, None) or {}
    index = slots.get(runner.client_id)
    return None if index is None else (index, len(slots))


def _workers(n: int) -> str:
    return f"{n} worker" if n == 1 else f"{n} workers"


class MasterSide:
    """The master's side: waits for its workers, hands out pacing slots, notices latecomers."""

    def __init__(
        self,
        environment: Environment,
        runner: MasterRunner,
        config: LoadConfig,
        fail: Callable[[str], NoReturn],
    ) -> None:
        self.environment = environment
        self.runner = runner
        self.config = config
        self._fail = fail
        options = environment.parsed_options
        # bench passes --expect-workers config.workers; a master started by hand may expect others.
        self.expected: int = getattr(options, "expect_workers", config.workers)
        self.slots: dict[str, int] | None = None
        self.late: set[str] = set()
        # With the web UI the test starts when somebody clicks, with whichever workers are there:
        # nothing to wait for, and no count to hold them to.
        self.headless = bool(options is not None and options.headless)
        environment.events.worker_connect.add_listener(self._on_worker_connect)
        runner.register_message(MSG_WORKER_FAILED, self._on_worker_failed)
        if self.headless:
            # Locust's own --expect-workers-max-wait (a backstop, set by bench) exits without a
            # word on how many came; this says it in the line bench reports.
            gevent.spawn_later(config.workers_wait_s, self._give_up_unless_started)

    def assign_slots(self) -> None:
        """At test_start, before Locust sends the spawn messages: slot i to the i-th worker connected."""
        runner = self.runner
        active = runner.clients.ready + runner.clients.running + runner.clients.spawning
        ids = sorted((client.id for client in active), key=runner.get_worker_index)
        self.slots = {client_id: i for i, client_id in enumerate(ids)}
        setattr(self.environment.parsed_options, SLOTS_ARG, self.slots)

    def _on_worker_connect(self, client_id: str, **_: Any) -> None:
        # Only while the load runs: workers report ready again after the stop at the end.
        running = self.runner.state in (STATE_SPAWNING, STATE_RUNNING)
        if running and self.slots is not None and client_id not in self.slots:
            self.late.add(client_id)

    def _on_worker_failed(self, msg: Any, **_: Any) -> None:
        # Its users sit idle and its share of the rate is missing: the phase is void, said at once.
        # Logged before quitting: quit() kills the greenlet this handler runs in.
        logger.error("%sa worker cannot run the phase: %s", PHASE_ERROR_MARKER, msg.data["reason"])
        self.environment.process_exit_code = 1
        self.runner.quit()

    def check_workers(self) -> None:
        """At test_stop: the phase is void if more workers took part than expected.

        More at the start split the rate wider than planned; one that joined mid-run made Locust
        move users between workers. Either way more `lbbench-worker`s run than --remote-workers.
        """
        started = len(self.slots or {})
        if not self.headless:
            return
        if started > self.expected:
            problem = f"{_workers(started)} connected, {self.expected} expected"
        elif self.late:
            problem = (
                f"{_workers(len(self.late))} joined after the load had started ({self.expected} expected)"
            )
        else:
            return
        self.environment.process_exit_code = 1
        logger.error("%s%s; more lbbench-workers than --remote-workers?", PHASE_ERROR_MARKER, problem)

    def _give_up_unless_started(self) -> None:
        if self.slots is not None:
            return
        expected, remote = self.expected, min(self.config.remote_workers, self.expected)
        if remote == expected:
            counted = f"{remote} remote {'worker' if remote == 1 else 'workers'}"
        elif remote:
            counted = f"{_workers(expected)} ({remote} remote)"
        else:
            counted = _workers(expected)
        connected = len(self.runner.clients.ready)
        self.runner.quit()  # tells the workers that did come to quit
        self._fail(f"expected {counted}, {connected} connected within {self.config.workers_wait_s:g} s")


def watch_master(environment: Environment, runner: WorkerRunner) -> None:
    """Quit when the master stops answering heartbeats, so that lbbench-worker starts a fresh worker."""
    heard = [time.monotonic()]

    def on_heartbeat(**_: Any) -> None:
        heard[0] = time.monotonic()

    def watch() -> None:
        while time.monotonic() - heard[0] < MASTER_SILENCE_S:
            gevent.sleep(1.0)
        master = f"{runner.master_host}:{runner.master_port}"
        logger.error("no heartbeat from the master at %s for %g s; quitting", master, MASTER_SILENCE_S)
        runner.quit()

    environment.events.heartbeat_received.add_listener(on_heartbeat)
    gevent.spawn(watch)
