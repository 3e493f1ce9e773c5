"""The seed's "incremental updates": the cached top 1000, also patched on every write that reaches it.

Reads are the cached strategy's single ZRANGE. A write is ``ZINCRBY`` on the player's shard, then
``ZRANGE cache 0 0 WITHSCORES`` and ``ZCARD cache`` in one round trip (the cached 1000th score);
only if the new score beats it (or the cache is not full) does the writer send ``MULTI; ZADD cache
GT score player; ZREMRANGEBYRANK cache 0 -1001; EXEC``. The cached strategy's full refresh still
runs every ``--refresh-interval``, as a safety net.

Races, and how they resolve:
- Two writers patching the cache at once: ``ZADD ... GT`` never lowers a cached score and the trim
  keeps the best 1000, so the later-arriving but lower update cannot undo the higher one.
- A score that goes *down* (negative delta) is not patched (GT) and one that falls out of the top
  1000 stays cached: both are stale until the next full refresh.
- A patch that lands between a full refresh's scatter and its RENAME is overwritten by the
  refresh's older snapshot: stale until the player's next write or the next refresh.
"""

from __future__ import annotations

from bench.cache.formats import CACHE_TOP_N
from bench.strategies.cached import CachedStrategy


class IncrementalStrategy(CachedStrategy):
    """Cached reads; writes that enter (or move within) the global top 1000 patch the cache at once."""

    name = "incremental"

    def submit(self, player: int, delta: float) -> float:
        score = self.shards.incr(player, delta)
        # The cached 1000th score and the cache's size, in one round trip.
        lowest, size = self.cache.call_many(
            ("ZRANGE", self.keys.cache, 0, 0, "WITHSCORES"), ("ZCARD", self.keys.cache)
        )
        if int(size) >= CACHE_TOP_N and lowest and score <= float(lowest[1]):
            return score
        self.cache.call_many(
            ("MULTI",),
            ("ZADD", self.keys.cache, "GT", score, str(player)),
            ("ZREMRANGEBYRANK", self.keys.cache, 0, -(CACHE_TOP_N + 1)),
            ("EXEC",),
        )
        return score
