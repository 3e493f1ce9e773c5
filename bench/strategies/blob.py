"""The cached strategy reading the blob cache format (bench/cache/formats/blob.py) instead of the sorted set.

A request is ``GETRANGE <prefix>:global:cache:blob 0 n*20-1`` on the cache node: exactly n
fixed-width records in one bulk string, decoded only when rows are read.
"""

from __future__ import annotations

from bench.cache.formats import BLOB
from bench.strategies.cached import CachedStrategy


class BlobStrategy(CachedStrategy):
    """``GETRANGE`` of the first n fixed-width records of the cached blob, on the cache node."""

    name = "blob"
    cache_formats = (BLOB,)
