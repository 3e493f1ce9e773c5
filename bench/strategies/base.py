"""What every way of serving the leaderboard offers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from bench.counting import ByteCounter
from bench.keys import Keys
from bench.merge import Ranking
from bench.topology import Topology


class Strategy(ABC):
    """A way to answer "global top n"; one instance per simulated application server (Locust user).

    Instances hold their own connections and are not thread-safe.
    """

    name: ClassVar[str]
    #: True if the strategy reads data that a background refresher must keep up to date.
    needs_refresher: ClassVar[bool] = False

    def __init__(self, topology: Topology, keys: Keys, counter: ByteCounter | None = None) -> None:
        """Args:
        counter: where this instance's connections count commands and bytes (shared by all
            users of a load-generator process, for the client-side cross-check).
        """
        self.topology = topology
        self.keys = keys
        self.counter = counter if counter is not None else ByteCounter()

    @abstractmethod
    def top(self, n: int) -> Ranking:
        """The global top ``n``, best first (score desc, then member bytes desc)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""
