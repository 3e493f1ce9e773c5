"""Servers the harness spawns: N shards and a cache node on free 127.0.0.1 ports, gone on close."""

from __future__ import annotations

from bench.errors import UsageError
from bench.topology.base import DEFAULT_SHARDS, Provider, Topology, TopologyOptions, endpoints
from bench.topology.processes import LocalServers, find_server_binary

MAX_SHARDS = 64


class LocalProvider(Provider):
    """``--shards N`` servers plus one cache server, from ``--server-bin`` or the first one found."""

    name = "local"
    owns_data = True
    reads = ("server_bin",)

    def __init__(self, options: TopologyOptions) -> None:
        super().__init__(options)
        if options.shard_urls or options.cache_url:
            raise UsageError("--provider local spawns its servers: drop --shard-url/--cache-url")
        if options.shards is not None and not 1 <= options.shards <= MAX_SHARDS:
            raise UsageError(f"--shards must be between 1 and {MAX_SHARDS}, got {options.shards}")

    @property
    def shard_count(self) -> int:
        return self.options.shards or DEFAULT_SHARDS

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
        )
