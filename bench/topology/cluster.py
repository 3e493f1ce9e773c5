"""Redis Cluster topologies: ``--provider cluster`` spawns one, ``external-cluster`` uses yours.

One rule: ``--cluster-url`` (repeatable seeds) means ``--provider external-cluster``; ``--provider
cluster`` always spawns and refuses ``--cluster-url``. Either way the shards are the masters in slot
order, each with the hash tag it owns, and the cache endpoint is the master owning ``GLOBAL_TAG``: a
cluster has no separate cache node (the seed's "Cache (1 key), Master Node").
"""

from __future__ import annotations

from typing import Any

from bench.console import status
from bench.errors import UsageError
from bench.serverbinary import find_server_binary
from bench.topology.base import Provider, SpawningProvider, Topology, TopologyOptions
from bench.topology.clusternodes import (
    GLOBAL_TAG,
    Master,
    coverage_settings,
    discover,
    form_cluster,
    key_tags,
)
from bench.topology.control import LocalControl
from bench.topology.endpoint import Endpoint, check_url, redact_url
from bench.topology.processes import LocalServers, free_port
from bench.wire.keyslot import key_slot
from bench.wire.policy import ConnectionPolicy

MAX_REPLICAS = 5


def node_args() -> tuple[str, ...]:
    """A cluster node's arguments; the bus port is chosen, as the default port+10000 may exceed 65535."""
    return (
        "--cluster-port",
        str(free_port()),
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",  # relative: inside the node's own dir, which teardown removes
        # Without these two, one stopped node makes every node refuse (CLUSTERDOWN) after
        # cluster-node-timeout; a benchmark wants the surviving masters to keep answering.
        # The topology details record them (coverage_settings).
        "--cluster-require-full-coverage",
        "no",
        "--cluster-allow-reads-when-down",
        "yes",
    )


def cluster_topology(
    name: str,
    masters: list[Master],
    policy: ConnectionPolicy,
    details: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Topology:
    """Shards = masters in slot order with their tags; cache = the master owning GLOBAL_TAG.

    The failure-coverage settings recorded are the cache master's own, as it reports them.
    """
    tags = key_tags([m.slots for m in masters])
    shards = [
        Endpoint(f"shard-{i}", "shard", m.url, policy, key_tag=tag)
        for i, (m, tag) in enumerate(zip(masters, tags, strict=True))
    ]
    home = next(i for i, m in enumerate(masters) if m.owns(key_slot(GLOBAL_TAG.encode())))
    cache = Endpoint("cache", "cache", masters[home].url, policy)
    slot_map = [
        {
            "node": shard.name,
            "url": shard.safe_url,
            "slots": [list(r) for r in m.slots],
            "key_tag": shard.key_tag,
            "replicas": sorted(redact_url(u) for u in m.replicas),
        }
        for shard, m in zip(shards, masters, strict=True)
    ]
    details = dict(details or {})
    details["cluster"] = {
        "slot_map": slot_map,
        "global_tag": GLOBAL_TAG,
        "cache_node": shards[home].name,
        **coverage_settings(cache.url, policy),
    }
    return Topology(name, shards, cache, details=details, global_tag=GLOBAL_TAG, **kwargs)


class ClusterProvider(SpawningProvider):
    """``--shards N`` masters with ``--replicas R`` each, one cluster on 127.0.0.1, gone on close."""

    name = "cluster"
    verb = "spawns"
    reads = ("server_bin", "replicas")
    # The cache is one of the masters here: a cache outage is a kill of that shard.
    server_faults = frozenset({"stall", "kill"})

    def __init__(self, options: TopologyOptions) -> None:
        super().__init__(options)
        self.replicas = options.replicas or 0
        if not 0 <= self.replicas <= MAX_REPLICAS:
            raise UsageError(f"--replicas must be between 0 and {MAX_REPLICAS}, got {self.replicas}")

    def open(self) -> Topology:
        binary = find_server_binary(self.options.server_bin)
        n = self.shard_count
        names = [f"shard-{i}" for i in range(n)]
        names += [f"shard-{j % n}-replica-{j // n}" for j in range(n * self.replicas)]
        servers = LocalServers(binary, names, bind=self.options.bind, extra_args=node_args)
        started = servers.start()  # stops whatever it started if one server fails
        try:
            status(f"forming a cluster of {n} masters and {n * self.replicas} replicas")
            urls = [s.url for s in started]
            form_cluster(urls, n, "127.0.0.1", self.options.policy)
            masters = discover(urls[0], self.options.policy)
            topology = cluster_topology(
                self.name,
                masters,
                self.options.policy,
                owns_data=True,
                server=binary.label,
                details={"server_path": binary.path, "replicas_per_master": self.replicas},
                on_close=servers.stop,
            )
            topology.control = LocalControl(servers, topology.shards)
            return topology
        except BaseException:
            servers.stop()
            raise


class ExternalClusterProvider(Provider):
    """``--cluster-url`` seeds of a cluster you run: its masters are the shards; nothing else is touched."""

    name = "external-cluster"
    owns_data = False
    reads = ("cluster_urls",)

    def __init__(self, options: TopologyOptions) -> None:
        super().__init__(options)
        if not options.cluster_urls:
            raise UsageError("--provider external-cluster needs --cluster-url (a node of your cluster)")
        if options.shard_urls or options.cache_url:
            raise UsageError(
                "--cluster-url finds the shards and the cache itself: drop --shard-url/--cache-url"
            )
        for url in options.cluster_urls:
            check_url(url)
        self._masters: list[Master] | None = None

    def masters(self) -> list[Master]:
        """The cluster's masters, from the first seed that answers (asked once)."""
        if self._masters is None:
            errors = []
            for seed in self.options.cluster_urls:
                try:
                    self._masters = discover(seed, self.options.policy)
                    break
                except UsageError as exc:
                    errors.append(str(exc))
            else:
                raise UsageError(errors[0] if len(errors) == 1 else "; ".join(errors))
        masters = self._masters
        if self.options.shards is not None and self.options.shards != len(masters):
            raise UsageError(f"--shards {self.options.shards} but the cluster has {len(masters)} masters")
        return masters

    @property
    def shard_count(self) -> int:
        return len(self.masters())

    def open(self) -> Topology:
        masters = self.masters()
        label = Endpoint("shard-0", "shard", masters[0].url, self.options.policy).server_label()
        return cluster_topology(self.name, masters, self.options.policy, owns_data=False, server=label)
