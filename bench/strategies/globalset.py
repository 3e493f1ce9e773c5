"""The seed's "single global key": every player also lives in one sorted set on one node."""

from __future__ import annotations

from bench.strategies.base import Strategy
from bench.wire.link import NodeLink, SortedSetTop
from bench.wire.merge import Ranking


class GlobalStrategy(Strategy):
    """Reads are one command on the cache node's ``<prefix>:global``; writes go to the shard and there.

    Real time and one round trip, at the price the seed names: one node must hold every player.
    """

    name = "global"
    needs_global_set = True

    def _open(self) -> None:
        self.node = NodeLink(self.topology.cache.connection(self.counter), self.counter)
        self._reader = SortedSetTop(self.node, self.keys.global_set)

    def top(self, n: int) -> Ranking:
        return self._reader.top(n)

    def rank(self, player: int) -> int | None:
        score = self.node.call("ZSCORE", self.keys.global_set, str(player))
        if score is None:
            return None
        return 1 + int(self.node.call("ZCOUNT", self.keys.global_set, f"({float(score)!r}", "+inf"))

    def submit(self, player: int, delta: float) -> float:
        self.shards.incr(player, delta)
        return float(self.node.call("ZINCRBY", self.keys.global_set, delta, str(player)))

    def close(self) -> None:
        self.node.close()
        super().close()
