"""Player id -> shard, by Redis Cluster's CRC16 key slot so ids map the same way on a real cluster.

A member's slot is ``CRC16-XMODEM(member) mod 16384`` (hash tags ``{...}`` honoured, as Redis does);
shard ``i`` of ``N`` owns the contiguous slot range ``[ceil(i*16384/N), ceil((i+1)*16384/N))``, which
is how ``redis-cli --cluster create`` splits slots over N masters (to within one slot at the edges).
Members are decimal player ids (``"0"``, ``"1"``, ...), so no member carries a hash tag.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SLOTS = 16384


def _crc16_table() -> npt.NDArray[np.uint16]:
    table = np.zeros(256, dtype=np.uint16)
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table[byte] = crc & 0xFFFF
    return table


_TABLE = _crc16_table()
_TABLE_PY = [int(x) for x in _TABLE]


def crc16(data: bytes) -> int:
    """CRC16-XMODEM, the checksum Redis Cluster hashes keys with."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE_PY[((crc >> 8) ^ byte) & 0xFF]
    return crc


def key_slot(member: bytes) -> int:
    """Redis Cluster slot of one key or member, honouring a non-empty ``{hash tag}``."""
    start = member.find(b"{")
    if start != -1:
        end = member.find(b"}", start + 1)
        if end > start + 1:
            member = member[start + 1 : end]
    return crc16(member) % SLOTS


def even_slot_ranges(masters: int) -> list[tuple[int, int]]:
    """Master i gets ``[ceil(i*16384/N), ceil((i+1)*16384/N))``: the inverse of shard_of_slot."""
    bounds = [-(-i * SLOTS // masters) for i in range(masters + 1)]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(masters)]


def shard_of_slot(slot: int | npt.NDArray[np.int64], shards: int) -> int | npt.NDArray[np.int64]:
    """Shard owning ``slot`` when ``shards`` nodes split the slots into equal contiguous ranges."""
    return (slot * shards) // SLOTS


def shard_of(player_id: int, shards: int) -> int:
    """Shard that holds ``player_id``."""
    return int(shard_of_slot(key_slot(str(player_id).encode()), shards))


def _decimal_crc_tables() -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.uint16], npt.NDArray[np.uint16]]:
    """CRC16 of ``str(x)`` and of ``f"{x:03d}"`` for x < 1000, and the effect of 3 more bytes on a CRC."""
    unpadded = np.array([crc16(str(x).encode()) for x in range(1000)], dtype=np.uint16)
    padded = np.array([crc16(f"{x:03d}".encode()) for x in range(1000)], dtype=np.uint16)
    state = np.arange(1 << 16, dtype=np.int64)
    for _ in range(3):
        state = ((state << 8) & 0xFFFF) ^ _TABLE[(state >> 8) & 0xFF].astype(np.int64)
    return unpadded, padded, state.astype(np.uint16)


# CRC16 with a zero initial value is linear: crc(a + b) = crc(a fed 3 zero bytes) ^ crc(b) for a 3-byte
# b, so an id's CRC is its id // 1000's CRC pushed through a table plus its last three digits' CRC.
_CRC_UNPADDED, _CRC_PADDED, _CRC_SHIFT3 = _decimal_crc_tables()


def _crc16_of_decimal(ids: npt.NDArray[np.int64]) -> npt.NDArray[np.uint16]:
    if ids.size == 0 or ids.max() < 1000:
        return _CRC_UNPADDED[ids]
    if ids.min() >= 1000:
        return _CRC_SHIFT3[_crc16_of_decimal(ids // 1000)] ^ _CRC_PADDED[ids % 1000]
    crc = np.empty(ids.shape, dtype=np.uint16)
    small = ids < 1000
    crc[small] = _CRC_UNPADDED[ids[small]]
    crc[~small] = _crc16_of_decimal(ids[~small])
    return crc


def shards_of(player_ids: npt.NDArray[np.int64], shards: int) -> npt.NDArray[np.int64]:
    """Vectorised :func:`shard_of` over non-negative integer ids (the seeding hot path: ~10 ns per id)."""
    ids = np.asarray(player_ids, dtype=np.int64)
    if ids.size and ids.min() < 0:
        raise ValueError("player ids must be non-negative")
    slots = _crc16_of_decimal(ids).astype(np.int64) % SLOTS
    return (slots * shards) // SLOTS
