"""Scatter-gather over raw connections: write every request first, then read every reply.

Writing to all N sockets before reading any lets the N servers work at the same time without
threads or greenlets, which keeps the client cost per fan-out to a few µs per shard.

In a Redis Cluster a reply may be a MOVED or an ASK: it is followed (bench/wire/redirect.py) and
the other connections' replies wait in their sockets meanwhile.

Each connection gets its own pre-packed command, because in a Redis Cluster each shard's key has a
hash tag of its own (bench/keys.py). ``pack_each`` packs once per distinct key, so where every shard
uses the same key name the shards share one packed command, and nothing is packed per request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from redis.connection import AbstractConnection

from bench.wire.counting import ByteCounter
from bench.wire.redirect import REDIRECTS, follow, read_pipeline

Command = tuple[Any, ...]


class Scatter:
    """A pre-packed command (or pipeline) per connection, all sent first; replies gathered in order."""

    def __init__(self, connections: Sequence[AbstractConnection], counter: ByteCounter | None = None) -> None:
        self.connections = list(connections)
        self.counter = counter

    def gather_each(self, packed: Sequence[list[bytes]]) -> list[Any]:
        """Send connection i its command ``packed[i]`` (from ``pack_each``); each one's reply."""
        try:
            for conn, command in zip(self.connections, packed, strict=True):
                conn.send_packed_command(command, check_health=False)
            if self.counter is not None:
                self.counter.commands += len(self.connections)
            replies = []
            for conn, command in zip(self.connections, packed, strict=True):
                try:
                    replies.append(conn.read_response())
                except REDIRECTS as redirect:
                    replies.append(follow(conn, command, 1, redirect)[0])
            return replies
        except BaseException:
            # A reply left unread would be taken as the answer to the next request: drop the sockets.
            self.disconnect()
            raise

    def gather_many_each(self, packed: Sequence[list[bytes]], commands: int) -> list[list[Any]]:
        """Send connection i its pipeline ``packed[i]`` of ``commands`` commands; each one's replies."""
        try:
            for conn, pipeline in zip(self.connections, packed, strict=True):
                conn.send_packed_command(pipeline, check_health=False)
            if self.counter is not None:
                self.counter.commands += commands * len(self.connections)
            return [
                read_pipeline(conn, pipeline, commands)
                for conn, pipeline in zip(self.connections, packed, strict=True)
            ]
        except BaseException:
            self.disconnect()
            raise

    def pack_each(self, keys: Sequence[str], command: Callable[[str], Command]) -> list[list[bytes]]:
        """``command(key)`` packed for each connection's key, once per distinct key."""
        packed: dict[str, list[bytes]] = {}
        for key in keys:
            if key not in packed:
                packed[key] = self.connections[0].pack_command(*command(key))
        return [packed[key] for key in keys]

    def pack_pipeline_each(
        self, keys: Sequence[str], commands: Callable[[str], Sequence[Command]]
    ) -> list[list[bytes]]:
        """``commands(key)`` packed as one pipeline for each connection's key, once per distinct key."""
        packed: dict[str, list[bytes]] = {}
        for key in keys:
            if key not in packed:
                packed[key] = self.connections[0].pack_commands(commands(key))
        return [packed[key] for key in keys]

    def disconnect(self) -> None:
        for conn in self.connections:
            conn.disconnect()


def zrange_rev(key: str, n: int) -> Command:
    """``ZRANGE key 0 n-1 REV WITHSCORES``: the top n of one sorted set, best first."""
    return ("ZRANGE", key, 0, n - 1, "REV", "WITHSCORES")


def zrange_rev_withscores(connection: AbstractConnection, key: str, n: int) -> list[bytes]:
    """Packed ``ZRANGE key 0 n-1 REV WITHSCORES`` for reuse on every request."""
    packed: list[bytes] = connection.pack_command(*zrange_rev(key, n))
    return packed
