"""The async global cache stored as one pre-serialized blob instead of a sorted set.

The refresher ``SET``s the global top 1000 as fixed-width records (bench/merge.py: big-endian
float64 score, then the member NUL-padded to 12 bytes; 20 bytes a row) inside the same MULTI/EXEC
as the meta hash; ``SET`` replaces the string atomically, so no staging key is needed. A request for
the top n is ``GETRANGE <prefix>:global:cache:blob 0 n*20-1``: exactly n records in one bulk string,
which the client keeps as bytes and decodes (NumPy, one structured array) only when rows are read.
Against the sorted set's ``ZRANGE ... WITHSCORES`` (2n bulk strings to parse) the reply is smaller
and costs the client one allocation; the README's format comparison has the measured difference.
"""

from __future__ import annotations

from bench.cache.refresher import CACHE_TOP_N
from bench.errors import UsageError
from bench.keys import Keys
from bench.strategies.base import Strategy
from bench.topology.base import Topology
from bench.wire.counting import ByteCounter
from bench.wire.link import NodeLink
from bench.wire.merge import BLOB_RECORD_BYTES, BlobRanking, Ranking


class BlobStrategy(Strategy):
    """``GETRANGE`` of the first n fixed-width records of the cached blob, on the cache node."""

    name = "blob"
    needs_refresher = True
    cache_format = "blob"

    def __init__(self, topology: Topology, keys: Keys, counter: ByteCounter | None = None) -> None:
        super().__init__(topology, keys, counter)
        self.cache = NodeLink(topology.cache.connection(self.counter), self.counter)
        self._packed: dict[int, list[bytes]] = {}

    def top(self, n: int) -> Ranking:
        packed = self._packed.get(n)
        if packed is None:
            if not 1 <= n <= CACHE_TOP_N:
                raise UsageError(f"{self.keys.cache_blob} can serve a top n of 1..{CACHE_TOP_N}, not {n}")
            last_byte = n * BLOB_RECORD_BYTES - 1
            packed = self._packed[n] = self.cache.conn.pack_command(
                "GETRANGE", self.keys.cache_blob, 0, last_byte
            )
        return BlobRanking(self.cache.call_packed(packed))

    def close(self) -> None:
        self.cache.close()
        super().close()
