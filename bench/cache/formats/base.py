"""What a cache format is: where it lives, what a refresh writes, and how a request reads it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from bench.keys import Keys
from bench.wire.link import NodeLink
from bench.wire.merge import Ranking

Command = tuple[Any, ...]
# The commands for one shard, given the key its players live under there (tagged in a cluster).
ShardCommands = Callable[[str], Sequence[Command]]
# Sends every shard its commands in one round trip (counted); each shard's replies.
GatherFn = Callable[[ShardCommands], list[list[Any]]]


class TopReader(Protocol):
    """Reads the top n from one node; one instance per connection."""

    def top(self, n: int) -> Ranking: ...


@dataclass
class Snapshot:
    """What one refresh gathered from the shards, for each format to build its cache writes from."""

    rows: list[tuple[float, bytes]]  # the merged global top list, best first, as (score, member)
    t_start_s: float  # wall clock when the scatter began: the cache's "refreshed at"
    gather: GatherFn
    # Each format's own shard reads (``shard_reads``), one list of replies per shard.
    extra: dict[str, list[list[Any]]] = field(default_factory=dict)


class CacheFormat(ABC):
    """One key on the cache node that a refresh writes; a new format is one module plus a registry line.

    Everything a format writes goes into the refresh's single MULTI/EXEC with the meta hash, so a
    reader sees the previous refresh or this one, never a mix.
    """

    name: ClassVar[str]
    #: After ``<prefix>:global:cache``: the format's key (the seed's sorted set has none).
    suffix: ClassVar[str]
    #: The key's name in window.json's ``key_memory_bytes`` and in summary.json ``memory.<label>_bytes``.
    memory_label: ClassVar[str]
    #: Whether requests read their top n from it (else it serves something else, like ranks).
    serves_top: ClassVar[bool] = True

    def key(self, keys: Keys) -> str:
        return keys.cache_key(self.suffix)

    def shard_reads(self, shard_key: str) -> list[Command]:
        """Commands pipelined after each shard's top-list read on ``shard_key`` (default none)."""
        del shard_key
        return []

    @abstractmethod
    def refresh_commands(self, keys: Keys, snapshot: Snapshot) -> list[Command]:
        """What this refresh writes, inside the refresh's MULTI/EXEC."""

    def reader(self, link: NodeLink, keys: Keys) -> TopReader:
        """The top-n reader over ``link`` (only formats that serve the top list have one)."""
        del link, keys
        raise TypeError(f"the {self.name} cache format does not serve a top list")

    def __repr__(self) -> str:
        return f"<cache format {self.name}>"
