"""Servers the harness spawns: N shards and a cache node on free 127.0.0.1 ports, gone on close."""

from __future__ import annotations

from pathlib import Path

from bench.serverbinary import find_server_binary, find_tls_server_binary
from bench.topology.base import SpawningProvider, Topology, endpoints
from bench.topology.control import LocalControl
from bench.topology.processes import LocalServers


class LocalProvider(SpawningProvider):
    """``--shards N`` servers plus one cache server, from ``--server-bin`` or the first one found.

    With ``--tls`` they speak TLS only, with certificates from a CA made for the run; the server is
    one built with TLS (bench/serverbinary.py: find_tls_server_binary).
    """

    name = "local"
    verb = "spawns"
    reads = ("server_bin", "tls")
    server_faults = frozenset({"stall", "kill", "slow", "cache-down"})

    def open(self) -> Topology:
        tls = self.options.tls
        binary = (find_tls_server_binary if tls else find_server_binary)(self.options.server_bin)
        names = [f"shard-{i}" for i in range(self.shard_count)] + ["cache"]
        servers = LocalServers(binary, names, bind=self.options.bind, tls=tls)
        started = servers.start()  # stops whatever it started if one server fails
        policy = self.options.policy
        if servers.certificates is not None:
            policy = policy.with_run_ca(str(servers.certificates.ca_cert))
        shards, cache = endpoints([s.url for s in started[:-1]], started[-1].url, policy)
        return Topology(
            self.name,
            shards,
            cache,
            owns_data=True,
            server=binary.label,
            details={"server_path": str(Path(binary.path).resolve()), "tls": tls},
            on_close=servers.stop,
            control=LocalControl(servers, [*shards, cache]),
        )
