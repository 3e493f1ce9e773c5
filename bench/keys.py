"""Key names the harness reads and writes (and, on external servers, the only keys it deletes).

Without hash tags (local, external and docker shards: every shard is its own server) the names are
the seed's, byte for byte, because the performance gate compares bytes per request exactly:

- each shard: ``<prefix>``;
- the cache node: ``<prefix>:global:cache`` (the seed's cache), ``<prefix>:global:cache<suffix>``
  (the other cache formats), ``<prefix>:global:cache:meta``, ``<prefix>:global:cache:tmp:<token>``
  and ``<prefix>:global`` (the single global sorted set).

In a Redis Cluster one key is one slot is one node, so the names carry hash tags:

- a shard whose endpoint has ``key_tag`` ``t`` keeps its players under ``<prefix>:{t}``, ``t``
  being a tag whose slot that shard's master owns;
- with the topology's ``global_tag`` ``g``, every global key puts ``{g}`` right after the prefix,
  ``<prefix>:{g}:global:cache``, ``<prefix>:{g}:global`` and so on (the suffixes unchanged), so they
  share one slot: a refresh's MULTI/EXEC and its RENAME of the staging key stay on one node.

Redis hashes the text between the *first* ``{`` and the next ``}``, so with tags the prefix must not
hold a ``{`` (it would become the tag) and a tag must not hold braces.

Strategies never look at tags: they ask for ``keys.shard_on(endpoint)`` or ``keys.shards_on(topology)``
and for ``keys.cache`` and the like on ``keys.on(topology)``, which every consumer taking a topology
and a Keys applies itself. Tags are read structurally (the protocols below), so this shared module
imports nothing from bench.topology and stays below every layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Protocol

from bench.errors import UsageError

DEFAULT_PREFIX = "leaderboard"


class TaggedNode(Protocol):
    """A shard endpoint: ``key_tag`` is None outside a cluster."""

    @property
    def key_tag(self) -> str | None: ...


class TaggedTopology(Protocol):
    """A topology: its shards, and the one tag every global key carries (None outside a cluster)."""

    @property
    def shards(self) -> Sequence[TaggedNode]: ...

    @property
    def global_tag(self) -> str | None: ...


@dataclass(frozen=True)
class Keys:
    """The harness's key names under ``prefix``; ``global_tag`` as the topology set it (see ``on``).

    The global names are cached per instance: strategies read them on every write.
    """

    prefix: str = DEFAULT_PREFIX
    global_tag: str | None = None

    def on(self, topology: TaggedTopology) -> Keys:
        """These keys as they are named on ``topology``: its global tag, or none."""
        if topology.global_tag == self.global_tag:
            return self
        return replace(self, global_tag=topology.global_tag)

    def shard_on(self, node: TaggedNode) -> str:
        """The shard key on ``node``: ``<prefix>``, or ``<prefix>:{tag}`` in a cluster."""
        return self._tagged(node.key_tag, "")

    def shards_on(self, topology: TaggedTopology) -> list[str]:
        """Each shard's key, in ``topology.shards`` order."""
        return [self.shard_on(node) for node in topology.shards]

    @cached_property
    def cache(self) -> str:
        """The seed's cache: the sorted set of the global top 1000."""
        return self.cache_key("")

    @cached_property
    def global_set(self) -> str:
        """The `global` strategy's single sorted set of every player, on the cache node."""
        return self._tagged(self.global_tag, ":global")

    @cached_property
    def cache_meta(self) -> str:
        """Hash with the last refresh's wall-clock time and duration."""
        return self.cache_key(":meta")

    def cache_key(self, suffix: str) -> str:
        """A cache format's key on the cache node: the seed's name plus the format's suffix."""
        return f"{self.global_set}:cache{suffix}"

    def cache_tmp(self, token: str) -> str:
        """Per-refresh staging key, renamed over the cache so readers never see it half-written."""
        return self.cache_key(f":tmp:{token}")

    def _tagged(self, tag: str | None, rest: str) -> str:
        if tag is None:
            return f"{self.prefix}{rest}"
        if not tag or "{" in tag or "}" in tag:
            raise UsageError(f"a key hash tag must be non-empty and hold no braces, got {tag!r}")
        if "{" in self.prefix:
            raise UsageError(
                f"--key-prefix {self.prefix!r} holds a '{{': in a cluster it would be the hash tag"
            )
        return f"{self.prefix}:{{{tag}}}{rest}"
