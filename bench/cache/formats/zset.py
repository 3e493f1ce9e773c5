"""The seed's cache: the global top 1000 as a sorted set, ``<prefix>:global:cache``."""

from __future__ import annotations

import uuid
from typing import Any

from bench.cache.formats.base import CacheFormat, Command, Snapshot, TopReader
from bench.keys import Keys
from bench.wire.link import NodeLink, SortedSetTop
from runfiles import CACHE_KEY_LABEL


class SortedSetFormat(CacheFormat):
    """``ZADD`` into a staging key, then ``RENAME`` it over the cache; read with ``ZRANGE ... REV``."""

    name = "zset"
    suffix = ""
    memory_label = CACHE_KEY_LABEL  # summary.json memory.cache_key_bytes: the seed's cache

    def refresh_commands(self, keys: Keys, snapshot: Snapshot) -> list[Command]:
        # Staging under a unique name, then RENAME inside MULTI: RENAME replaces the key atomically,
        # and a crash cannot leave a staging key behind because nothing runs before EXEC.
        tmp = keys.cache_tmp(uuid.uuid4().hex)
        zadd: list[Any] = ["ZADD", tmp]
        for score, member in snapshot.rows:
            zadd += [score, member]
        return [tuple(zadd), ("RENAME", tmp, self.key(keys))]

    def reader(self, link: NodeLink, keys: Keys) -> TopReader:
        return SortedSetTop(link, self.key(keys), max_n=CACHE_TOP_N)


# The seed caches the global top 1000 (here to avoid an import cycle with the refresher).
CACHE_TOP_N = 1000
