"""The async global cache stored as one pre-serialized blob instead of a sorted set.

The refresher ``SET``s the global top 1000 as fixed-width records, a big-endian float64 score then
the member NUL-padded to ``BLOB_MEMBER_BYTES`` (20 bytes a row), inside the same MULTI/EXEC as the
meta hash; ``SET`` replaces the string atomically, so no staging key is needed. A request for the
top n is ``GETRANGE <prefix>:global:cache:blob 0 n*20-1``: exactly n records in one bulk string,
which the client keeps as bytes and decodes (NumPy, one structured array) only when rows are read.
Against the sorted set's ``ZRANGE ... WITHSCORES`` (2n bulk strings to parse) the reply is smaller
and costs the client one allocation; docs/findings.md has the measured difference.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bench.cache.formats.base import CacheFormat, Command, Snapshot, TopReader
from bench.cache.formats.zset import CACHE_TOP_N
from bench.errors import RunError
from bench.keys import Keys
from bench.wire.link import NodeLink, PackedTop
from bench.wire.merge import Ranking

# Decimal ids below 10**12, 10,000 times the seed's 100M players; a record is then 20 bytes, less
# than a row of a ZRANGE reply (two length-prefixed bulk strings): a top 100 of 200k players is
# 2,009 bytes as a blob against 2,398 as a sorted-set reply, measured.
BLOB_MEMBER_BYTES = 12
BLOB_RECORD = np.dtype([("score", ">f8"), ("member", f"S{BLOB_MEMBER_BYTES}")])
BLOB_RECORD_BYTES = BLOB_RECORD.itemsize


class BlobRanking(Ranking):
    """A top-n answer that arrived as one string of ``BLOB_RECORD``s; decoded only in ``rows()``."""

    __slots__ = ("_blob",)

    def __init__(self, blob: bytes) -> None:
        super().__init__()
        self._blob = blob

    def __len__(self) -> int:
        return len(self._blob) // BLOB_RECORD_BYTES

    def rows(self) -> list[tuple[bytes, float]]:
        records = np.frombuffer(self._blob, dtype=BLOB_RECORD)
        # numpy drops the trailing NUL padding of "S" fields; pack_blob refuses members it would alter.
        return list(zip(records["member"].tolist(), records["score"].tolist(), strict=True))


def pack_blob(rows: Sequence[tuple[float, bytes]]) -> bytes:
    """``(score, member)`` rows, best first, as ``BLOB_RECORD``s; RunError if a member does not fit."""
    for _, member in rows:
        if len(member) > BLOB_MEMBER_BYTES or b"\0" in member:
            raise RunError(
                f"member {member[:40]!r} cannot be stored in the blob cache format: members must be at"
                f" most {BLOB_MEMBER_BYTES} bytes without NUL bytes (decimal player ids below 10**12)"
            )
    return np.array(rows, dtype=BLOB_RECORD).tobytes()


class BlobTop(PackedTop):
    """``GETRANGE key 0 n*20-1``: exactly the first n records."""

    def pack(self, n: int) -> list[bytes]:
        packed: list[bytes] = self.link.conn.pack_command("GETRANGE", self.key, 0, n * BLOB_RECORD_BYTES - 1)
        return packed

    def ranking(self, reply: Any) -> Ranking:
        return BlobRanking(reply)


class BlobFormat(CacheFormat):
    """One string of fixed-width records, ``<prefix>:global:cache:blob``."""

    name = "blob"
    suffix = ":blob"
    memory_label = "cache_blob"

    def refresh_commands(self, keys: Keys, snapshot: Snapshot) -> list[Command]:
        return [("SET", self.key(keys), pack_blob(snapshot.rows))]

    def reader(self, link: NodeLink, keys: Keys) -> TopReader:
        return BlobTop(link, self.key(keys), max_n=CACHE_TOP_N)
