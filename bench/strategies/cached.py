"""The seed's async global cache: a request is one read of one key on one node."""

from __future__ import annotations

from time import perf_counter_ns
from typing import ClassVar

from bench.cache.formats import SORTED_SET, CacheFormat
from bench.strategies.base import Strategy
from bench.strategies.naive import NaiveStrategy
from bench.wire.failure import NODE_FAULTS, CacheEmptyError, forget_frames
from bench.wire.link import NodeLink
from bench.wire.merge import Ranking

# What the fallback answers for: the cache node failing, or holding no top list.
CACHE_FAULTS: tuple[type[Exception], ...] = (*NODE_FAULTS, CacheEmptyError)


class CachedStrategy(Strategy):
    """The top n from the cached top list on the cache node (``ZRANGE ... REV WITHSCORES``); nothing else.

    A missing or empty cache key is an error (``CacheEmptyError``), not an empty leaderboard. With
    ``--cached-fallback naive`` a cache that fails or is empty is answered by the naive scatter-gather
    over the shards instead (N shard commands: the stampede), and counted in ``fallbacks``.
    """

    name = "cached"
    cache_formats: ClassVar[tuple[CacheFormat, ...]] = (SORTED_SET,)

    def _open(self) -> None:
        self.cache = NodeLink(self.topology.cache.connection(self.counter), self.counter)
        top_list = next(f for f in self.cache_formats if f.serves_top)
        self._reader = top_list.reader(self.cache, self.keys)
        self._cache_key = top_list.key(self.keys)
        # Connected up front, as an application server keeps its shard pool: opened on the first
        # fallback, every user would connect to every shard at the moment the cache fails.
        self._fallback = (
            NaiveStrategy(self.topology, self.keys, self.counter, policy=self.policy)
            if self.policy.cached_falls_back
            else None
        )

    def cached_top(self, n: int) -> Ranking:
        """The top n as the cache holds it; CacheEmptyError when the cache has none."""
        self._until_sample -= 1
        ranking = self._reader.top(n) if self._until_sample else self._sampled_read(n)
        if not len(ranking):
            raise CacheEmptyError(self._cache_key)
        return ranking

    def _sampled_read(self, n: int) -> Ranking:
        """The cache's read with its send-to-reply service time recorded (one read in many)."""
        assert self.reply_times is not None
        self._until_sample = self.reply_times.sample_every
        sent_ns = perf_counter_ns()
        ranking = self._reader.top(n)
        self.reply_times.add_service(sent_ns, perf_counter_ns())
        return ranking

    def top(self, n: int) -> Ranking:
        if self._fallback is None:
            return self.cached_top(n)
        try:
            return self.cached_top(n)
        except CACHE_FAULTS as exc:
            forget_frames(exc)
            self.fallbacks += 1
        return self._fallback.top(n)

    def close(self) -> None:
        self.cache.close()
        if self._fallback is not None:
            self._fallback.close()
        super().close()
