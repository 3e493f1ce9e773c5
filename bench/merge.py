"""Merging per-shard top-n lists into a global top n.

Order: score descending, then member bytes descending. That is exactly the order of
``ZRANGE key 0 n-1 REV WITHSCORES`` inside one sorted set, so each shard's top n holds every
member the global top n can need from it, and the merge is deterministic across runs.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

Row = Sequence[Any]  # [member bytes, score float], as RESP3 returns it


def _order_key(row: Row) -> tuple[float, bytes]:
    return (row[1], row[0])


def merge_top(replies: Iterable[Iterable[Row]], n: int) -> list[Row]:
    """Merge per-shard replies (each already in REV order) into the global top n, rows untouched."""
    return list(islice(heapq.merge(*replies, key=_order_key, reverse=True), n))


def oracle_top(rows: Iterable[Row], n: int) -> list[Row]:
    """Brute-force top n over all members, for tests and checks."""
    return heapq.nlargest(n, rows, key=_order_key)
