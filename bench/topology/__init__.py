"""Where the shards and the cache node live: topology providers, endpoints, spawned processes.

A provider is one module plus one line in ``PROVIDERS``: it validates the topology flags and opens a
:class:`Topology` (see ``bench/topology/base.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bench.errors import UsageError
from bench.topology.base import Provider, Topology, TopologyOptions
from bench.topology.cluster import ClusterProvider, ExternalClusterProvider
from bench.topology.containers.provider import DockerProvider
from bench.topology.endpoint import Endpoint
from bench.topology.external import ExternalProvider
from bench.topology.local import LocalProvider

PROVIDERS: dict[str, type[Provider]] = {
    LocalProvider.name: LocalProvider,
    ExternalProvider.name: ExternalProvider,
    DockerProvider.name: DockerProvider,
    ClusterProvider.name: ClusterProvider,
    ExternalClusterProvider.name: ExternalClusterProvider,
}

__all__ = [
    "PROVIDERS",
    "Endpoint",
    "Provider",
    "Topology",
    "TopologyOptions",
    "get_provider",
    "open_topology",
]


def get_provider(options: TopologyOptions) -> Provider:
    """The provider ``options`` name (or imply), checked against them; UsageError with one line otherwise."""
    try:
        provider_class = PROVIDERS[options.provider_name]
    except KeyError:
        known = ", ".join(PROVIDERS)
        raise UsageError(f"unknown provider {options.provider_name!r}; known: {known}") from None
    return provider_class(options)


@contextmanager
def open_topology(options: TopologyOptions) -> Iterator[Topology]:
    """Open the topology (start servers or check them), yield it, and close what was started."""
    topology = get_provider(options).open()
    try:
        yield topology
    finally:
        topology.close()
