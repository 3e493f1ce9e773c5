"""Cache formats: what the refresher writes on the cache node; one module plus one line in ``FORMATS``."""

from __future__ import annotations

from bench.cache.formats.base import CacheFormat, Snapshot, TopReader
from bench.cache.formats.blob import BlobFormat
from bench.cache.formats.histogram import RankHistogramFormat
from bench.cache.formats.zset import CACHE_TOP_N, SortedSetFormat
from bench.keys import Keys

SORTED_SET = SortedSetFormat()
BLOB = BlobFormat()
RANK_HISTOGRAM = RankHistogramFormat()

FORMATS: dict[str, CacheFormat] = {f.name: f for f in (SORTED_SET, BLOB, RANK_HISTOGRAM)}

__all__ = [
    "BLOB",
    "CACHE_TOP_N",
    "FORMATS",
    "RANK_HISTOGRAM",
    "SORTED_SET",
    "CacheFormat",
    "Snapshot",
    "TopReader",
    "cache_node_keys",
]


def cache_node_keys(keys: Keys) -> tuple[str, ...]:
    """Every harness key on the cache node (staging keys aside): what clearing deletes."""
    return (*(f.key(keys) for f in FORMATS.values()), keys.cache_meta, keys.global_set)
