"""The seed's naive path: every request fans out to all shards in parallel and merges."""

from __future__ import annotations

from bench.keys import Keys
from bench.strategies.base import Strategy
from bench.topology import Topology
from bench.wire.counting import ByteCounter
from bench.wire.merge import Ranking, merge_top
from bench.wire.scatter import Scatter, zrange_rev


class NaiveStrategy(Strategy):
    """N shard queries per request (``ZRANGE <shard key> 0 n-1 REV WITHSCORES``), merged client-side.

    The shards' commands are packed once per n; all shard keys the same (no cluster), one for all.
    """

    name = "naive"

    def __init__(self, topology: Topology, keys: Keys, counter: ByteCounter | None = None) -> None:
        super().__init__(topology, keys, counter)
        self._scatter = Scatter([e.connection(self.counter) for e in topology.shards], self.counter)
        self._shard_keys = self.keys.shards_on(topology)
        self._packed: dict[int, list[list[bytes]]] = {}

    def top(self, n: int) -> Ranking:
        packed = self._packed.get(n)
        if packed is None:
            packed = self._packed[n] = self._scatter.pack_each(
                self._shard_keys, lambda key: zrange_rev(key, n)
            )
        return Ranking(scored=merge_top(self._scatter.gather_each(packed), n))

    def close(self) -> None:
        self._scatter.disconnect()
        super().close()
