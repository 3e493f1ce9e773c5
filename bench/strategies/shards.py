"""Per-player operations on the shards: the exact way to read one player's score and rank, and to write."""

from __future__ import annotations

from typing import NamedTuple

from bench.keys import Keys
from bench.topology import Topology
from bench.wire.counting import ByteCounter
from bench.wire.keyslot import shard_of
from bench.wire.link import NodeLink
from bench.wire.merge import merge_top
from bench.wire.scatter import Scatter, zrange_rev


class ShardRef(NamedTuple):
    """One shard's link and the key its players live under there (tagged in a cluster)."""

    link: NodeLink
    key: str


class ShardAccess:
    """Connections to every shard, opened on first use (reads that never need them pay nothing)."""

    def __init__(self, topology: Topology, keys: Keys, counter: ByteCounter) -> None:
        self.topology = topology
        self.keys = keys
        self.counter = counter
        self._shards: list[ShardRef] = []
        self._keys = keys.shards_on(topology)

    def _connections(self) -> list[ShardRef]:
        if not self._shards:
            self._shards = [
                ShardRef(NodeLink(e.connection(self.counter), self.counter), key)
                for e, key in zip(self.topology.shards, self._keys, strict=True)
            ]
        return self._shards

    def owner(self, player: int) -> ShardRef:
        """The shard that holds ``player``: its link and its key."""
        shards = self._connections()
        return shards[shard_of(player, len(shards))]

    def score(self, player: int) -> float | None:
        """The player's score (``ZSCORE`` on its shard), None if the player is unknown."""
        link, key = self.owner(player)
        reply = link.call("ZSCORE", key, str(player))
        return None if reply is None else float(reply)

    def count_above(self, score: float) -> int:
        """Players with a strictly higher score, all shards (``ZCOUNT key (score +inf`` sent to each)."""
        scatter = Scatter([shard.link.conn for shard in self._connections()], self.counter)
        # Packed once per distinct key: one command for every shard outside a cluster, as before.
        packed = scatter.pack_each(self._keys, lambda key: ("ZCOUNT", key, f"({score!r}", "+inf"))
        return sum(int(reply) for reply in scatter.gather_each(packed))

    def incr(self, player: int, delta: float) -> float:
        """``ZINCRBY`` on the player's shard; the new score."""
        link, key = self.owner(player)
        return float(link.call("ZINCRBY", key, delta, str(player)))

    def close(self) -> None:
        for shard in self._shards:
            shard.link.close()
        self._shards = []


def true_top(topology: Topology, keys: Keys, n: int) -> list[tuple[float, bytes]]:
    """The exact global top n as ``(score, member)``, scatter-gathered on connections of its own."""
    scatter = Scatter([e.connection() for e in topology.shards])
    try:
        packed = scatter.pack_each(keys.on(topology).shards_on(topology), lambda key: zrange_rev(key, n))
        return merge_top(scatter.gather_each(packed), n)
    finally:
        scatter.disconnect()
