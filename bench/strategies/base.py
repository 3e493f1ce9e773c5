"""What every way of serving the leaderboard offers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from bench.keys import Keys
from bench.merge import Row
from bench.topology import Topology


class Strategy(ABC):
    """A way to answer "global top n"; one instance per simulated application server (Locust user).

    Instances hold their own connections and are not thread-safe.
    """

    name: ClassVar[str]
    #: True if the strategy reads data that a background refresher must keep up to date.
    needs_refresher: ClassVar[bool] = False

    def __init__(self, topology: Topology, keys: Keys) -> None:
        self.topology = topology
        self.keys = keys

    @abstractmethod
    def top(self, n: int) -> list[Row]:
        """The global top ``n`` rows, best first (score desc, then member bytes desc)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""
