"""What every way of serving the leaderboard offers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from bench.cache.formats import CacheFormat
from bench.keys import Keys
from bench.strategies.shards import ShardAccess
from bench.topology import Topology
from bench.wire.counting import ByteCounter
from bench.wire.failure import FailurePolicy
from bench.wire.merge import Ranking
from bench.wire.replytimes import ReplyTimes


class Strategy(ABC):
    """A way to answer "global top n"; one instance per simulated application server (Locust user).

    Instances hold their own connections and are not thread-safe.
    """

    name: ClassVar[str]
    #: What the background refresher must write for this strategy (only what it reads); none: no cache.
    cache_formats: ClassVar[tuple[CacheFormat, ...]] = ()
    #: Derived from ``cache_formats``: whether a background refresher keeps the strategy's data fresh.
    needs_refresher: ClassVar[bool] = False
    #: True if seeding must also fill the single global sorted set (Keys.global_set).
    needs_global_set: ClassVar[bool] = False
    #: False if ``rank`` is an approximation (docs/findings.md lists which strategies and how close).
    rank_is_exact: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.needs_refresher = bool(cls.cache_formats)

    def __init__(
        self,
        topology: Topology,
        keys: Keys,
        counter: ByteCounter | None = None,
        *,
        policy: FailurePolicy | None = None,
        reply_times: ReplyTimes | None = None,
    ) -> None:
        """Args:
        counter: where this instance's connections count commands and bytes (shared by all
            users of a load-generator process, for the client-side cross-check).
        policy: what a read does when a part fails (bench/wire/failure.py; default: it fails).
        reply_times: where a strategy that samples its reads' parts (naive, cached) puts them.
        """
        self.reply_times = reply_times
        # Counts down to the next sampled read; negative (never 0) when nothing samples.
        self._until_sample = -1 if reply_times is None else reply_times.first_countdown()
        self.policy = policy if policy is not None else FailurePolicy()
        #: Requests this instance answered (or tried to) another way than its own: the load
        #: generator counts them per interval (``--cached-fallback naive``).
        self.fallbacks = 0
        self.topology = topology
        self.keys = keys.on(topology)  # the cache's names as this topology tags them (bench/keys.py)
        self.counter = counter if counter is not None else ByteCounter()
        self.shards = ShardAccess(topology, self.keys, self.counter)
        self._open()

    @abstractmethod
    def _open(self) -> None:
        """Set up the strategy's own connections and readers (called once, at the end of ``__init__``)."""

    @abstractmethod
    def top(self, n: int) -> Ranking:
        """The global top ``n``, best first (score desc, then member bytes desc)."""

    def read(self, n: int) -> Ranking:
        """What one simulated page view costs: the load generator times this. Default: ``top(n)``."""
        return self.top(n)

    def rank(self, player: int) -> int | None:
        """The player's global rank: 1 + players with a strictly higher score (ties share a rank).

        Exact by default: the player's score from its shard, then every shard's count above it.
        None for an unknown player.
        """
        score = self.shards.score(player)
        return None if score is None else 1 + self.shards.count_above(score)

    def submit(self, player: int, delta: float) -> float:
        """Add ``delta`` to the player's score where this strategy keeps scores; the new score."""
        return self.shards.incr(player, delta)

    def close(self) -> None:
        """Release connections."""
        self.shards.close()
