"""The seed's async global cache: a request is one read of one key on one node."""

from __future__ import annotations

from bench.counting import ByteCounter
from bench.keys import Keys
from bench.link import NodeLink, SortedSetTop
from bench.merge import Ranking
from bench.refresher import CACHE_TOP_N
from bench.strategies.base import Strategy
from bench.topology import Topology


class CachedStrategy(Strategy):
    """``ZRANGE leaderboard:global:cache 0 n-1 REV WITHSCORES`` on the cache node; nothing else."""

    name = "cached"
    needs_refresher = True

    def __init__(self, topology: Topology, keys: Keys, counter: ByteCounter | None = None) -> None:
        super().__init__(topology, keys, counter)
        self.cache = NodeLink(topology.cache.connection(self.counter), self.counter)
        self._reader = SortedSetTop(self.cache, keys.cache, max_n=CACHE_TOP_N)

    def top(self, n: int) -> Ranking:
        return self._reader.top(n)

    def close(self) -> None:
        self.cache.close()
        super().close()
