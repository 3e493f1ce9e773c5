"""The seed's async global cache: a request is one read of one key on one node."""

from __future__ import annotations

from bench.counting import ByteCounter
from bench.errors import UsageError
from bench.keys import Keys
from bench.link import NodeLink
from bench.merge import Ranking
from bench.refresher import CACHE_TOP_N
from bench.scatter import zrange_rev_withscores
from bench.strategies.base import Strategy
from bench.topology import Topology


class CachedStrategy(Strategy):
    """``ZRANGE leaderboard:global:cache 0 n-1 REV WITHSCORES`` on the cache node; nothing else."""

    name = "cached"
    needs_refresher = True

    def __init__(self, topology: Topology, keys: Keys, counter: ByteCounter | None = None) -> None:
        super().__init__(topology, keys, counter)
        self.cache = NodeLink(topology.cache.connection(self.counter), self.counter)
        self._packed: dict[int, list[bytes]] = {}

    def top(self, n: int) -> Ranking:
        packed = self._packed.get(n)
        if packed is None:
            if n > CACHE_TOP_N:
                raise UsageError(f"the cache holds the top {CACHE_TOP_N}; cannot serve top {n}")
            packed = self._packed[n] = zrange_rev_withscores(self.cache.conn, self.keys.cache, n)
        return Ranking(flat=self.cache.call_packed(packed))

    def close(self) -> None:
        self.cache.close()
        super().close()
