"""Key names the harness reads and writes (and, on external servers, the only keys it deletes)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "leaderboard"


@dataclass(frozen=True)
class Keys:
    """``<prefix>`` on each shard; ``<prefix>:global:cache`` (the seed's name) on the cache node."""

    prefix: str = DEFAULT_PREFIX

    @property
    def shard(self) -> str:
        return self.prefix

    @property
    def cache(self) -> str:
        return f"{self.prefix}:global:cache"

    @property
    def global_set(self) -> str:
        """The `global` strategy's single sorted set of every player, on the cache node."""
        return f"{self.prefix}:global"

    @property
    def cache_meta(self) -> str:
        """Hash with the last refresh's wall-clock time and duration."""
        return f"{self.prefix}:global:cache:meta"

    @property
    def cache_blob(self) -> str:
        """The `blob` strategy's cache: the global top 1000 as one string of fixed-width records."""
        return f"{self.prefix}:global:cache:blob"

    @property
    def cache_hist(self) -> str:
        """Score histogram of all players, for approximate global ranks (bench/rankhist.py)."""
        return f"{self.prefix}:global:cache:hist"

    def cache_tmp(self, token: str) -> str:
        """Per-refresh staging key, renamed over the cache so readers never see it half-written."""
        return f"{self.prefix}:global:cache:tmp:{token}"

    @property
    def cache_node_keys(self) -> tuple[str, ...]:
        """Every harness key on the cache node (staging keys aside): what clearing deletes."""
        return (self.cache, self.cache_meta, self.cache_blob, self.cache_hist, self.global_set)
