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
        """The seed's cache: the sorted set of the global top 1000."""
        return self.cache_key("")

    @property
    def global_set(self) -> str:
        """The `global` strategy's single sorted set of every player, on the cache node."""
        return f"{self.prefix}:global"

    @property
    def cache_meta(self) -> str:
        """Hash with the last refresh's wall-clock time and duration."""
        return f"{self.prefix}:global:cache:meta"

    def cache_key(self, suffix: str) -> str:
        """A cache format's key on the cache node: the seed's name plus the format's suffix."""
        return f"{self.prefix}:global:cache{suffix}"

    def cache_tmp(self, token: str) -> str:
        """Per-refresh staging key, renamed over the cache so readers never see it half-written."""
        return f"{self.prefix}:global:cache:tmp:{token}"
