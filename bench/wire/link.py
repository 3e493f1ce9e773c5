"""One counted connection used request/response style: what strategies send to a single node."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from bench.errors import UsageError
from bench.wire.counting import ByteCounter, CountingConnection
from bench.wire.merge import Ranking
from bench.wire.redirect import read_one, read_pipeline
from bench.wire.scatter import zrange_rev_withscores


class NodeLink:
    """Sends commands on one connection, counts them, and drops the socket on any error.

    A reply left unread after an error would be taken as the answer to the next command, so every
    failure disconnects (redis-py reconnects on the next send). A cluster's MOVED and ASK are not
    failures: they are followed (bench/wire/redirect.py).
    """

    def __init__(self, conn: CountingConnection, counter: ByteCounter) -> None:
        self.conn = conn
        self.counter = counter

    def _exchange(self, packed: list[bytes], commands: int) -> list[Any]:
        try:
            self.conn.send_packed_command(packed, check_health=False)
            self.counter.commands += commands
            if commands > 1:
                return read_pipeline(self.conn, packed, commands)
            return [read_one(self.conn, packed)]
        except BaseException:
            self.conn.disconnect()
            raise

    def call_packed(self, packed: list[bytes]) -> Any:
        """Send one pre-packed command (packed once, reused per request); its reply."""
        return self._exchange(packed, 1)[0]

    def call(self, *args: Any) -> Any:
        """One command, one reply."""
        return self._exchange(self.conn.pack_command(*args), 1)[0]

    def call_many(self, *commands: tuple[Any, ...]) -> list[Any]:
        """Several commands in one write (a pipeline, e.g. MULTI ... EXEC); every reply."""
        return self._exchange(self.conn.pack_commands(commands), len(commands))

    def close(self) -> None:
        self.conn.disconnect()


class PackedTop(ABC):
    """The top n of one key on one node: the read command is packed once per n, then sent as is."""

    def __init__(self, link: NodeLink, key: str, max_n: int | None = None) -> None:
        self.link = link
        self.key = key
        self.max_n = max_n
        self._packed: dict[int, list[bytes]] = {}

    def top(self, n: int) -> Ranking:
        packed = self._packed.get(n)
        if packed is None:
            if n < 1 or (self.max_n is not None and n > self.max_n):
                raise UsageError(f"{self.key} can serve a top n of 1..{self.max_n or 'all'}, not {n}")
            packed = self._packed[n] = self.pack(n)
        return self.ranking(self.link.call_packed(packed))

    @abstractmethod
    def pack(self, n: int) -> list[bytes]:
        """The read of the top n, packed."""

    @abstractmethod
    def ranking(self, reply: Any) -> Ranking:
        """The reply as a Ranking, left undecoded until someone reads its rows."""


class SortedSetTop(PackedTop):
    """``ZRANGE key 0 n-1 REV WITHSCORES`` on one sorted set."""

    def pack(self, n: int) -> list[bytes]:
        return zrange_rev_withscores(self.link.conn, self.key, n)

    def ranking(self, reply: Any) -> Ranking:
        return Ranking(flat=reply)
