"""Per-player operations on the shards: the exact way to read one player's score and rank, and to write."""

from __future__ import annotations

from bench.keys import Keys
from bench.topology import Topology
from bench.wire.counting import ByteCounter
from bench.wire.keyslot import shard_of
from bench.wire.link import NodeLink
from bench.wire.scatter import Scatter


class ShardAccess:
    """Connections to every shard, opened on first use (reads that never need them pay nothing)."""

    def __init__(self, topology: Topology, keys: Keys, counter: ByteCounter) -> None:
        self.topology = topology
        self.keys = keys
        self.counter = counter
        self._links: list[NodeLink] = []

    def _connections(self) -> list[NodeLink]:
        if not self._links:
            self._links = [NodeLink(e.connection(self.counter), self.counter) for e in self.topology.shards]
        return self._links

    def owner(self, player: int) -> NodeLink:
        """The link to the shard that holds ``player``."""
        links = self._connections()
        return links[shard_of(player, len(links))]

    def score(self, player: int) -> float | None:
        """The player's score (``ZSCORE`` on its shard), None if the player is unknown."""
        reply = self.owner(player).call("ZSCORE", self.keys.shard, str(player))
        return None if reply is None else float(reply)

    def count_above(self, score: float) -> int:
        """Players with a strictly higher score, all shards (``ZCOUNT key (score +inf`` sent to each)."""
        links = self._connections()
        scatter = Scatter([link.conn for link in links], self.counter)
        packed = links[0].conn.pack_command("ZCOUNT", self.keys.shard, f"({score!r}", "+inf")
        return sum(int(reply) for reply in scatter.gather(packed))

    def incr(self, player: int, delta: float) -> float:
        """``ZINCRBY`` on the player's shard; the new score."""
        return float(self.owner(player).call("ZINCRBY", self.keys.shard, delta, str(player)))

    def close(self) -> None:
        for link in self._links:
            link.close()
        self._links = []
