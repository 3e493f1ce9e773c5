"""What every way of serving the leaderboard offers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Literal

from bench.cache.refresher import CacheLayout
from bench.keys import Keys
from bench.strategies.shards import ShardAccess
from bench.topology.base import Topology
from bench.wire.counting import ByteCounter
from bench.wire.merge import Ranking


class Strategy(ABC):
    """A way to answer "global top n"; one instance per simulated application server (Locust user).

    Instances hold their own connections and are not thread-safe.
    """

    name: ClassVar[str]
    #: True if the strategy reads data that a background refresher must keep up to date.
    needs_refresher: ClassVar[bool] = False
    #: True if seeding must also fill the single global sorted set (Keys.global_set).
    needs_global_set: ClassVar[bool] = False
    #: The cache format the strategy reads: "zset" (the seed's sorted set) or "blob".
    cache_format: ClassVar[Literal["zset", "blob"]] = "zset"
    #: True if the refresher must also build the score histogram (bench/rankhist.py).
    needs_rank_histogram: ClassVar[bool] = False
    #: False if ``rank`` is an approximation (the README lists which strategies and how close).
    rank_is_exact: ClassVar[bool] = True

    def __init__(self, topology: Topology, keys: Keys, counter: ByteCounter | None = None) -> None:
        """Args:
        counter: where this instance's connections count commands and bytes (shared by all
            users of a load-generator process, for the client-side cross-check).
        """
        self.topology = topology
        self.keys = keys
        self.counter = counter if counter is not None else ByteCounter()
        self.shards = ShardAccess(topology, keys, self.counter)

    @classmethod
    def cache_layout(cls) -> CacheLayout:
        """What the refresher must write for this strategy (only what it reads)."""
        return CacheLayout(
            zset=cls.cache_format == "zset",
            blob=cls.cache_format == "blob",
            rank_histogram=cls.needs_rank_histogram,
        )

    @abstractmethod
    def top(self, n: int) -> Ranking:
        """The global top ``n``, best first (score desc, then member bytes desc)."""

    def read(self, n: int) -> Ranking:
        """What one simulated page view costs: the load generator times this. Default: ``top(n)``."""
        return self.top(n)

    def rank(self, player: int) -> int | None:
        """The player's global rank: 1 + players with a strictly higher score (ties share a rank).

        Exact by default: the player's score from its shard, then every shard's count above it.
        None for an unknown player.
        """
        score = self.shards.score(player)
        return None if score is None else 1 + self.shards.count_above(score)

    def submit(self, player: int, delta: float) -> float:
        """Add ``delta`` to the player's score where this strategy keeps scores; the new score."""
        return self.shards.incr(player, delta)

    def close(self) -> None:
        """Release connections."""
        self.shards.close()
