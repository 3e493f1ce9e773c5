"""Each shard's players, gathered chunk by chunk and handed out in ``ZRANGE ... REV`` order.

A player is kept as one uint64 whose order is Redis's order inside a sorted set: the score in the
high bits, then a key that sorts like the member's decimal bytes. Sorting those numbers is a plain
numpy sort (8 bytes per player, no strings), and the server inserts members given in descending
order at the head of its skiplist, which is what makes loading cheap (see :mod:`bench.seeding.rdb`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

MAX_DIGITS = 9  # member ids below 10**9: 34 bits of member key + 30 bits of score fill a uint64
MAX_PLAYERS = 10**MAX_DIGITS
_MEMBER_BITS = 34
_MEMBER_MASK = np.uint64((1 << _MEMBER_BITS) - 1)
_SCORE_LIMIT = 1 << (64 - _MEMBER_BITS)
_POW10 = 10 ** np.arange(MAX_DIGITS + 1, dtype=np.int64)


def _digits(ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    return np.searchsorted(_POW10[1:], ids, side="right").astype(np.int64) + 1


def order_keys(ids: npt.NDArray[np.int64], scores: npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
    """One uint64 per player that sorts as ``(score, member bytes)`` does in a Redis sorted set.

    The member part is the id's digits left-aligned in 9 places, times 10, plus its digit count:
    ``"1" < "10" < "100" < "11" < "2"`` as byte strings, and as these numbers.
    """
    if ids.size and (ids.min() < 0 or ids.max() >= MAX_PLAYERS):
        raise ValueError(f"player ids must lie in 0 .. {MAX_PLAYERS - 1}")
    if scores.size and (scores.min() < 0 or scores.max() >= _SCORE_LIMIT):
        raise ValueError(f"scores must lie in 0 .. {_SCORE_LIMIT - 1}")
    digits = _digits(ids)
    member_key = ids * _POW10[MAX_DIGITS - digits] * 10 + digits
    return (scores.astype(np.uint64) << np.uint64(_MEMBER_BITS)) | member_key.astype(np.uint64)


def split_keys(keys: npt.NDArray[np.uint64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``(ids, scores)`` back from :func:`order_keys`."""
    member_key = (keys & _MEMBER_MASK).astype(np.int64)
    digits = member_key % 10
    ids = (member_key // 10) // _POW10[MAX_DIGITS - digits]
    return ids, (keys >> np.uint64(_MEMBER_BITS)).astype(np.int64)


def shard_pieces(
    ids: npt.NDArray[np.int64], scores: npt.NDArray[np.int64], owner: npt.NDArray[np.int64], shards: int
) -> list[npt.NDArray[np.uint64]]:
    """One chunk's order keys split by owning shard, then all of them (the set of everyone's piece)."""
    keys = order_keys(ids, scores)
    # uint8 owners make numpy's stable argsort a radix sort.
    order = np.argsort(owner.astype(np.uint8), kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(shards + 1))
    return [keys[order[bounds[shard] : bounds[shard + 1]]] for shard in range(shards)] + [keys]


class ShardSets:
    """Players per shard (plus, optionally, one set of everyone), accumulated as order keys."""

    def __init__(self, shards: int, *, everyone: bool = False) -> None:
        self.shards = shards
        self._parts: list[list[npt.NDArray[np.uint64]]] = [[] for _ in range(shards + int(everyone))]

    def add(
        self, ids: npt.NDArray[np.int64], scores: npt.NDArray[np.int64], owner: npt.NDArray[np.int64]
    ) -> None:
        self.extend(shard_pieces(ids, scores, owner, self.shards))

    def extend(self, pieces: list[npt.NDArray[np.uint64]]) -> None:
        """Add one chunk's :func:`shard_pieces`."""
        for index, parts in enumerate(self._parts):
            parts.append(pieces[index])

    def size(self, index: int) -> int:
        return sum(len(p) for p in self._parts[index])

    def take(self, index: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Set ``index``'s ``(ids, scores)``, highest first as ``ZRANGE ... REV`` lists them; frees it."""
        parts, self._parts[index] = self._parts[index], []
        keys = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
        del parts
        keys.sort()
        return split_keys(keys[::-1])
