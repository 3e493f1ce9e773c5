"""Scatter-gather over raw connections: write every request first, then read every reply.

Writing to all N sockets before reading any lets the N servers work at the same time without
threads or greenlets, which keeps the client cost per fan-out to a few µs per shard.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.connection import AbstractConnection

from bench.wire.counting import ByteCounter


class Scatter:
    """The same pre-packed command sent to every connection, replies gathered in order."""

    def __init__(self, connections: Sequence[AbstractConnection], counter: ByteCounter | None = None) -> None:
        self.connections = list(connections)
        self.counter = counter

    def gather(self, packed: list[bytes]) -> list[Any]:
        """Send ``packed`` (from ``pack_command``) to all connections and return the replies."""
        try:
            for conn in self.connections:
                conn.send_packed_command(packed, check_health=False)
            if self.counter is not None:
                self.counter.commands += len(self.connections)
            return [conn.read_response() for conn in self.connections]
        except BaseException:
            # A reply left unread would be taken as the answer to the next request: drop the sockets.
            self.disconnect()
            raise

    def gather_many(self, packed: list[bytes], commands: int) -> list[list[Any]]:
        """Send a pre-packed pipeline of ``commands`` commands to all connections; each one's replies."""
        try:
            for conn in self.connections:
                conn.send_packed_command(packed, check_health=False)
            if self.counter is not None:
                self.counter.commands += commands * len(self.connections)
            return [[conn.read_response() for _ in range(commands)] for conn in self.connections]
        except BaseException:
            self.disconnect()
            raise

    def disconnect(self) -> None:
        for conn in self.connections:
            conn.disconnect()


def zrange_rev_withscores(connection: AbstractConnection, key: str, n: int) -> list[bytes]:
    """Packed ``ZRANGE key 0 n-1 REV WITHSCORES`` for reuse on every request."""
    packed: list[bytes] = connection.pack_command("ZRANGE", key, 0, n - 1, "REV", "WITHSCORES")
    return packed
