"""The seed's async global cache: a request is one read of one key on one node."""

from __future__ import annotations

from typing import ClassVar

from bench.cache.formats import SORTED_SET, CacheFormat
from bench.keys import Keys
from bench.strategies.base import Strategy
from bench.topology import Topology
from bench.wire.counting import ByteCounter
from bench.wire.link import NodeLink
from bench.wire.merge import Ranking


class CachedStrategy(Strategy):
    """The top n from the cached top list on the cache node (``ZRANGE ... REV WITHSCORES``); nothing else."""

    name = "cached"
    cache_formats: ClassVar[tuple[CacheFormat, ...]] = (SORTED_SET,)

    def __init__(self, topology: Topology, keys: Keys, counter: ByteCounter | None = None) -> None:
        super().__init__(topology, keys, counter)
        self.cache = NodeLink(topology.cache.connection(self.counter), self.counter)
        top_list = next(f for f in self.cache_formats if f.serves_top)
        self._reader = top_list.reader(self.cache, self.keys)

    def top(self, n: int) -> Ranking:
        return self._reader.top(n)

    def close(self) -> None:
        self.cache.close()
        super().close()
