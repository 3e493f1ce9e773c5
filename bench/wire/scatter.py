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
from time import perf_counter_ns
from typing import Any

from redis.connection import AbstractConnection

from bench.wire.counting import ByteCounter
from bench.wire.failure import NODE_FAULTS, forget_frames
from bench.wire.redirect import read_one, read_pipeline

Command = tuple[Any, ...]


class Scatter:
    """A pre-packed command (or pipeline) per connection, all sent first; replies gathered in order."""

    def __init__(self, connections: Sequence[AbstractConnection], counter: ByteCounter | None = None) -> None:
        self.connections = list(connections)
        self.counter = counter
        #: Connections the last ``gather_available`` / ``gather_many_available`` got no reply from,
        #: and which: bit i set for ``connections[i]``.
        self.missing = 0
        self.failed = 0
        self.error: Exception | None = None  # the first node failure of the last gather, if any

    def gather_each(self, packed: Sequence[list[bytes]], clock: list[int] | None = None) -> list[Any]:
        """Send connection i its command ``packed[i]`` (from ``pack_each``); each one's reply.

        A node that fails (timeout, refused, reset) fails the call with its error, but only its own
        socket is dropped: the other replies are read, so a stalled or dead shard does not make every
        request reconnect to every shard (a reconnect storm that would load the generator, not Redis).

        A ``clock`` of ``1 + 2 * len(connections)`` slots gets perf_counter_ns instants: the start,
        each socket's send, then each socket's reply read (a sampled request's per-shard times).
        """
        replies = self._gather_available(packed, 1, single=True, clock=clock)
        if self.error is not None:
            raise self.error
        return replies

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

    def gather_available(self, packed: Sequence[list[bytes]], clock: list[int] | None = None) -> list[Any]:
        """Like ``gather_each``, but only the replies of the connections that answered.

        ``missing`` and ``failed`` then say how many and which did not.

        A connection that fails (timeout, refused, reset) is dropped alone; every other reply is
        read, so the healthy sockets stay in step. Raises the first failure when none answered.
        ``clock``: as for ``gather_each``.
        """
        return self._gather_available(packed, 1, single=True, clock=clock)

    def gather_many_available(self, packed: Sequence[list[bytes]], commands: int) -> list[list[Any]]:
        """Like ``gather_many_each``, but only the connections that answered (see ``gather_available``)."""
        return self._gather_available(packed, commands, single=False)

    def _gather_available(
        self, packed: Sequence[list[bytes]], commands: int, *, single: bool, clock: list[int] | None = None
    ) -> list[Any]:
        first: Exception | None = None
        n = len(self.connections)
        if clock is not None:
            clock[0] = perf_counter_ns()
        failed = 0  # a bit per connection that failed: no per-request list on the happy path
        try:
            for i, (conn, command) in enumerate(zip(self.connections, packed, strict=True)):
                try:
                    if clock is not None:
                        clock[1 + i] = perf_counter_ns()
                    conn.send_packed_command(command, check_health=False)
                except NODE_FAULTS as exc:
                    conn.disconnect()
                    failed |= 1 << i
                    forget_frames(exc)
                    first = first or exc
                    continue
                # Counted once sent, as Redis counts it once it runs (a stalled node runs it later).
                if self.counter is not None:
                    self.counter.commands += commands
            replies: list[Any] = []
            for i, (conn, command) in enumerate(zip(self.connections, packed, strict=True)):
                if failed >> i & 1:
                    continue
                try:
                    replies.append(
                        read_one(conn, command) if single else read_pipeline(conn, command, commands)
                    )
                    if clock is not None:
                        clock[1 + n + i] = perf_counter_ns()
                except NODE_FAULTS as exc:
                    conn.disconnect()
                    failed |= 1 << i
                    forget_frames(exc)
                    first = first or exc
        except BaseException:
            self.disconnect()  # anything but a failed node (a reply error, a kill): drop every socket
            raise
        self.missing = len(self.connections) - len(replies)
        self.failed = failed
        self.error = first
        if not replies and first is not None:
            raise first
        return replies

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
