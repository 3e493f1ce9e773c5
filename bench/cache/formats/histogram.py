"""A score histogram of every player next to the cached top list, from which a global rank is interpolated.

Not a top list: the ``regional`` strategy reads it to rank players below the cached top 1000
(bench/cache/rankhist.py has the boundaries, the interpolation and its error bound).
"""

from __future__ import annotations

import numpy as np

from bench.cache.formats.base import CacheFormat, Command, Snapshot
from bench.cache.rankhist import RankHistogram, boundaries, lowest_score
from bench.keys import Keys


class RankHistogramFormat(CacheFormat):
    """``SET <prefix>:global:cache:hist`` to a RankHistogram's bytes.

    Each shard's lowest score comes back with its top-list read (``ZRANGE key 0 0 WITHSCORES``);
    then one more round trip counts the players above each boundary (one ``ZCOUNT`` each).
    """

    name = "hist"
    suffix = ":hist"
    memory_label = "cache_hist"
    serves_top = False

    def shard_reads(self, shard_key: str) -> list[Command]:
        return [("ZRANGE", shard_key, 0, 0, "WITHSCORES")]

    def refresh_commands(self, keys: Keys, snapshot: Snapshot) -> list[Command]:
        lowest = lowest_score([replies[0] for replies in snapshot.extra[self.name]])
        bounds = boundaries(lowest, snapshot.rows[-1][0])
        above = [f"({float(b)!r}" for b in bounds]
        per_shard = snapshot.gather(lambda shard_key: [("ZCOUNT", shard_key, b, "+inf") for b in above])
        counts = np.array(per_shard, dtype=np.int64).sum(axis=0)
        histogram = RankHistogram(snapshot.t_start_s, len(snapshot.rows), bounds, counts)
        return [("SET", self.key(keys), histogram.to_bytes())]
