"""Servers the harness spawns: N shards and a cache node on free 127.0.0.1 ports, gone on close."""

from __future__ import annotations

from bench.serverbinary import find_server_binary
from bench.topology.base import SpawningProvider, Topology, endpoints
from bench.topology.control import LocalControl
from bench.topology.processes import LocalServers


class LocalProvider(SpawningProvider):
    """``--shards N`` servers plus one cache server, from ``--server-bin`` or the first one found."""

    name = "local"
    verb = "spawns"
    reads = ("server_bin",)
    server_faults = frozenset({"stall", "kill", "slow", "cache-down"})

    def open(self) -> Topology:
        binary = find_server_binary(self.options.server_bin)
        names = [f"shard-{i}" for i in range(self.shard_count)] + ["cache"]
        servers = LocalServers(binary, names, bind=self.options.bind)
        started = servers.start()  # stops whatever it started if one server fails
        shards, cache = endpoints([s.url for s in started[:-1]], started[-1].url, self.options.policy)
        return Topology(
            self.name,
            shards,
            cache,
            owns_data=True,
            server=binary.label,
            details={"server_path": binary.path},
            on_close=servers.stop,
            control=LocalControl(servers, [*shards, cache]),
        )
