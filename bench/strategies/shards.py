"""Per-player operations on the shards: the exact way to read one player's score and rank, and to write."""

from __future__ import annotations

from bench.counting import ByteCounter, CountingConnection
from bench.keys import Keys
from bench.keyslot import shard_of
from bench.topology import Topology


class ShardAccess:
    """Connections to every shard, opened on first use (reads that never need them pay nothing)."""

    def __init__(self, topology: Topology, keys: Keys, counter: ByteCounter) -> None:
        self.topology = topology
        self.keys = keys
        self.counter = counter
        self._conns: list[CountingConnection] = []

    def _connections(self) -> list[CountingConnection]:
        if not self._conns:
            self._conns = [e.connection(self.counter) for e in self.topology.shards]
        return self._conns

    def _call(self, conn: CountingConnection, *args: str | float) -> object:
        self.counter.commands += 1
        try:
            conn.send_command(*args, check_health=False)
            return conn.read_response()
        except BaseException:
            conn.disconnect()
            raise

    def owner(self, player: int) -> CountingConnection:
        conns = self._connections()
        return conns[shard_of(player, len(conns))]

    def score(self, player: int) -> float | None:
        """The player's score (``ZSCORE`` on its shard), None if the player is unknown."""
        reply = self._call(self.owner(player), "ZSCORE", self.keys.shard, str(player))
        return None if reply is None else float(reply)  # type: ignore[arg-type]

    def count_above(self, score: float) -> int:
        """Players with a strictly higher score, all shards (``ZCOUNT key (score +inf`` sent to each)."""
        conns = self._connections()
        args = ("ZCOUNT", self.keys.shard, f"({score!r}", "+inf")
        try:
            for conn in conns:
                conn.send_command(*args, check_health=False)
            self.counter.commands += len(conns)
            return sum(int(conn.read_response()) for conn in conns)
        except BaseException:
            for conn in conns:
                conn.disconnect()
            raise

    def incr(self, player: int, delta: float) -> float:
        """``ZINCRBY`` on the player's shard; the new score."""
        reply = self._call(self.owner(player), "ZINCRBY", self.keys.shard, delta, str(player))
        return float(reply)  # type: ignore[arg-type]

    def close(self) -> None:
        for conn in self._conns:
            conn.disconnect()
        self._conns = []
