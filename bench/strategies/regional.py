"""The seed's "different data model": real-time regional ranks plus the cached global view.

A shard is a region. One page view reads the region's own top n straight from its shard (real
time, one node) and the global top n from the cache (one node): two commands on two nodes, never a
scatter-gather. Regions are visited in turn, so every shard serves its share of the page views.

The player's global rank is the "cached" half of the seed's sentence, so it is approximate
(``rank_is_exact = False``): ``ZSCORE`` on the player's shard (round trip 1), then on the cache node
``ZCOUNT cache (score +inf`` and ``HGET meta refreshed_at_s`` pipelined (round trip 2). A count
below the cache's size means the player is in the cached top 1000: the rank is exact as of the last
refresh. Otherwise it is interpolated in the refresher's score histogram (bench/cache/rankhist.py), which
each instance keeps client-side and fetches again (``GET``, one more round trip) only when the
refresh time in the meta hash changed: once per refresh per application server. So 3 commands on
2 nodes per query, against the exact rank's 1 + N commands on N nodes.
"""

from __future__ import annotations

from itertools import cycle

from bench.cache.formats import RANK_HISTOGRAM, SORTED_SET
from bench.cache.rankhist import RankHistogram
from bench.errors import RunError
from bench.strategies.cached import CachedStrategy
from bench.wire.link import NodeLink, SortedSetTop
from bench.wire.merge import Ranking


class RegionalStrategy(CachedStrategy):
    """Page view = the region's live top n (its shard) + the cached global top n (the cache node)."""

    name = "regional"
    cache_formats = (SORTED_SET, RANK_HISTOGRAM)
    rank_is_exact = False

    def _open(self) -> None:
        super()._open()
        self._regions = [
            SortedSetTop(NodeLink(e.connection(self.counter), self.counter), self.keys.shard_on(e))
            for e in self.topology.shards
        ]
        self._next_region = cycle(range(len(self._regions)))
        self._histogram: RankHistogram | None = None

    def regional_top(self, region: int, n: int) -> Ranking:
        """Region ``region``'s live top n (its shard's own leaderboard)."""
        return self._regions[region].top(n)

    def read(self, n: int) -> Ranking:
        self.regional_top(next(self._next_region), n)
        return self.top(n)

    def rank(self, player: int) -> int | None:
        """Global rank from the cache: exact in the cached top 1000, interpolated below (module doc)."""
        score = self.shards.score(player)
        if score is None:
            return None
        above, refreshed_at = self.cache.call_many(
            ("ZCOUNT", self.keys.cache, f"({score!r}", "+inf"),
            ("HGET", self.keys.cache_meta, "refreshed_at_s"),
        )
        histogram = self._current_histogram(None if refreshed_at is None else float(refreshed_at))
        if int(above) < histogram.cache_entries:
            return 1 + int(above)
        return 1 + histogram.count_above(score)

    def _current_histogram(self, refreshed_at_s: float | None) -> RankHistogram:
        """The histogram of the refresh the meta hash names, fetched only when that refresh is new."""
        if self._histogram is None or self._histogram.refreshed_at_s != refreshed_at_s:
            key = RANK_HISTOGRAM.key(self.keys)
            data = self.cache.call("GET", key)
            if data is None:
                raise RunError(
                    f"no rank histogram at {key}: refresh with the regional strategy's formats"
                    " (`lbbench refresh --strategy regional`)"
                )
            self._histogram = RankHistogram.from_bytes(data)
        return self._histogram

    def close(self) -> None:
        for region in self._regions:
            region.link.close()
        super().close()
