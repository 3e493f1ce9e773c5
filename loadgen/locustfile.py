"""Locust users that play the application server: each talks to Redis directly through one strategy.

Started by ``lbbench compare`` with the strategy and topology in ``$LBBENCH_LOAD_CONFIG``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from locust import User, constant, events, task

from bench.loadconfig import LoadConfig
from bench.strategies import Strategy, get_strategy
from loadgen.recorder import Recorder

CONFIG = LoadConfig.from_env()
TOPOLOGY = CONFIG.topology()
KEYS = CONFIG.keys()
STRATEGY_CLASS = get_strategy(CONFIG.strategy)
RECORDER = Recorder()


def _on_test_start(**_: Any) -> None:
    RECORDER.start()


def _on_test_stop(**_: Any) -> None:
    RECORDER.stop()
    RECORDER.write(Path(CONFIG.raw_dir))


events.test_start.add_listener(_on_test_start)
events.test_stop.add_listener(_on_test_stop)


class LeaderboardUser(User):
    """One application server asking for the global top n as fast as its strategy answers."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.strategy: Strategy = STRATEGY_CLASS(TOPOLOGY, KEYS)
        self.top_n = CONFIG.top_n
        self.name = CONFIG.request_name

    def on_stop(self) -> None:
        self.strategy.close()

    @task
    def top(self) -> None:
        error: BaseException | None = None
        with self.environment.events.request.measure("redis", self.name):
            started_ns = time.perf_counter_ns()
            try:
                self.strategy.top(self.top_n)
            except Exception as exc:
                error = exc
                raise
            finally:
                RECORDER.add(started_ns, time.perf_counter_ns(), error)
