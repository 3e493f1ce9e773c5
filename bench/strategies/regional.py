"""The seed's "different data model": real-time regional ranks plus the cached global view.

A shard is a region. One page view reads the region's own top n straight from its shard (real
time, one node) and the global top n from the cache (one node): two commands on two nodes, never a
scatter-gather. Regions are visited in turn, so every shard serves its share of the page views.
"""

from __future__ import annotations

from itertools import cycle

from bench.counting import ByteCounter
from bench.keys import Keys
from bench.link import NodeLink, SortedSetTop
from bench.merge import Ranking
from bench.strategies.cached import CachedStrategy
from bench.topology import Topology


class RegionalStrategy(CachedStrategy):
    """Page view = the region's live top n (its shard) + the cached global top n (the cache node)."""

    name = "regional"
    needs_refresher = True

    def __init__(self, topology: Topology, keys: Keys, counter: ByteCounter | None = None) -> None:
        super().__init__(topology, keys, counter)
        self._regions = [
            SortedSetTop(NodeLink(e.connection(self.counter), self.counter), keys.shard)
            for e in topology.shards
        ]
        self._next_region = cycle(range(len(self._regions)))

    def regional_top(self, region: int, n: int) -> Ranking:
        """Region ``region``'s live top n (its shard's own leaderboard)."""
        return self._regions[region].top(n)

    def read(self, n: int) -> Ranking:
        self.regional_top(next(self._next_region), n)
        return self.top(n)

    def close(self) -> None:
        for region in self._regions:
            region.link.close()
        super().close()
