"""The seed's async global cache: a request is one read of one key on one node."""

from __future__ import annotations

from bench.cache.refresher import CACHE_TOP_N
from bench.keys import Keys
from bench.strategies.base import Strategy
from bench.topology.base import Topology
from bench.wire.counting import ByteCounter
from bench.wire.link import NodeLink, SortedSetTop
from bench.wire.merge import Ranking


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
