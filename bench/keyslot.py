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


def shard_of_slot(slot: int | npt.NDArray[np.int64], shards: int) -> int | npt.NDArray[np.int64]:
    """Shard owning ``slot`` when ``shards`` nodes split the slots into equal contiguous ranges."""
    return (slot * shards) // SLOTS


def shard_of(player_id: int, shards: int) -> int:
    """Shard that holds ``player_id``."""
    return int(shard_of_slot(key_slot(str(player_id).encode()), shards))


def shards_of(player_ids: npt.NDArray[np.int64], shards: int) -> npt.NDArray[np.int64]:
    """Vectorised :func:`shard_of` over non-negative integer ids (the seeding hot path)."""
    ids = np.asarray(player_ids, dtype=np.int64)
    if ids.size and ids.min() < 0:
        raise ValueError("player ids must be non-negative")
    digits = np.ones(ids.shape, dtype=np.int64)
    bound = np.full(ids.shape, 10, dtype=np.int64)
    # Number of decimal digits of each id; 19 digits cover int64.
    for _ in range(18):
        more = ids >= bound
        if not more.any():
            break
        digits += more
        bound = np.where(more, bound * 10, bound)
    crc = np.zeros(ids.shape, dtype=np.int64)
    max_digits = int(digits.max()) if ids.size else 0
    for pos in range(max_digits):
        # Digit `pos` from the left; ids shorter than pos+1 digits are left alone.
        active = digits > pos
        power = np.power(10, np.maximum(digits - pos - 1, 0))
        byte = (ids // power) % 10 + ord("0")
        idx = ((crc >> 8) ^ byte) & 0xFF
        updated = ((crc << 8) & 0xFFFF) ^ _TABLE[idx].astype(np.int64)
        crc = np.where(active, updated, crc)
    return (crc % SLOTS) * shards // SLOTS
