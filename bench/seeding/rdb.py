"""A sorted set serialised as a ``DUMP`` payload, so a whole shard loads with one ``RESTORE``.

Why: building a 10M-member set with ``ZADD`` cost valkey 8.1 3.1 µs of CPU per member even in the
best insertion order (argument objects, hash-table growth, allocator), ``RESTORE`` 0.6 µs: it
pre-sizes the hash table and parses fixed binary records. Members are written in descending
``(score, member bytes)`` order, as the server's own ``DUMP`` does, so each insert lands at the head
of the skiplist.

Payload layout (the RDB object encoding plus the ``DUMP`` footer)::

    type RDB_TYPE_ZSET_2 | length | (member, score) * length | RDB version (2 B LE) | CRC-64 (8 B LE)

with each member an RDB integer-encoded string (``0xC2`` + int32 LE; the server stores it as the
decimal string, the same member a ``ZADD`` of ``str(id)`` makes) and each score a little-endian
IEEE 754 double. The CRC is CRC-64/Jones ("CRC-64/REDIS"), over everything before it.
"""

from __future__ import annotations

import anycrc
import numpy as np
import numpy.typing as npt

RDB_TYPE_ZSET_2 = 5
# Version 9 (Redis 5.0/6.x) already has RDB_TYPE_ZSET_2 and integer strings; every later Redis and
# Valkey accepts payloads of an older version, none of a newer one.
RDB_VERSION = 9
_RDB_ENC_INT32 = 0xC2
MAX_MEMBER_ID = 2**31 - 1  # members are encoded as int32
_RECORD = np.dtype([("encoding", "u1"), ("member", "<i4"), ("score", "<f8")])  # packed: 13 bytes
_CRC64 = anycrc.Model("CRC64-REDIS")


def _rdb_length(length: int) -> bytes:
    if length < 1 << 6:
        return bytes([length])
    if length < 1 << 14:
        return bytes([0x40 | (length >> 8), length & 0xFF])
    if length < 1 << 32:
        return b"\x80" + length.to_bytes(4, "big")
    return b"\x81" + length.to_bytes(8, "big")


def payload_bytes(members: int) -> int:
    """Size of :func:`zset_payload` for ``members`` members (to check it against proto-max-bulk-len)."""
    return 1 + len(_rdb_length(members)) + members * _RECORD.itemsize + 10


def zset_payload(member_ids: npt.NDArray[np.int64], scores: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
    """``DUMP`` payload of a sorted set of decimal integer members, in the order given.

    Give members in descending ``(score, member bytes)`` order: the server inserts them one by one,
    and that order makes every insert O(1).
    """
    count = len(member_ids)
    if count == 0:
        raise ValueError("an empty sorted set has no DUMP payload (the key would not exist)")
    if member_ids.min() < 0 or member_ids.max() > MAX_MEMBER_ID:
        raise ValueError(f"member ids must lie in 0 .. {MAX_MEMBER_ID}")
    head = bytes([RDB_TYPE_ZSET_2]) + _rdb_length(count)
    out = np.empty(len(head) + count * _RECORD.itemsize + 10, dtype=np.uint8)
    out[: len(head)] = np.frombuffer(head, dtype=np.uint8)
    records = out[len(head) : len(head) + count * _RECORD.itemsize].view(_RECORD)
    records["encoding"] = _RDB_ENC_INT32
    records["member"] = member_ids
    records["score"] = scores
    out[-10:-8] = np.frombuffer(RDB_VERSION.to_bytes(2, "little"), dtype=np.uint8)
    crc = _CRC64.calc(out[:-8])
    out[-8:] = np.frombuffer(int(crc).to_bytes(8, "little"), dtype=np.uint8)
    return out
