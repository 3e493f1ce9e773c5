"""Client CPU of one naive request against 10 real shards: fan-out, parse, merge (`make bench`).

The target of ``<= 300 µs`` of client CPU per naive request is about this path alone, so it is
timed with ``time.process_time`` (CPU, not wall: the shards' own work is not the client's) on
10 spawned servers seeded with 200,000 players. The sockets are gevent's, as in a Locust worker, so
a reply not yet there costs what it costs there: a wait on the event loop. What the in-run figure
``client_cpu_us_per_request_marginal`` adds on top (pacing, recording, Locust's stats once a second,
sleeping and waking between paced requests) is in docs/methodology.md, "Marginal cost".
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from gevent import socket as gsocket
from pytest_benchmark.fixture import BenchmarkFixture

from bench.keys import Keys
from bench.seeding.seed import seed
from bench.serverbinary import find_server_binary
from bench.topology import Topology, TopologyOptions, open_topology
from bench.wire.counting import ByteCounter, CountingConnection, CountingSocket
from bench.wire.merge import merge_top
from bench.wire.scatter import Scatter, zrange_rev

SHARDS = 10
PLAYERS = 200_000
BATCH = 1_000  # naive requests per round


class GeventConnection(CountingConnection):
    """A counting connection on a gevent socket, as a monkey-patched Locust worker has."""

    def _connect(self) -> Any:
        sock = gsocket.create_connection((self.host, self.port), self.socket_connect_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.socket_timeout)
        return CountingSocket(sock, self.counter)


@pytest.fixture(scope="module")
def topology() -> Iterator[Topology]:
    with open_topology(TopologyOptions(shards=SHARDS, server_bin=find_server_binary().path)) as topo:
        seed(topo, Keys(), PLAYERS, 1)
        yield topo


@pytest.mark.benchmark(timer=time.process_time)
def test_naive_request_client_cpu(benchmark: BenchmarkFixture, topology: Topology) -> None:
    counter = ByteCounter()
    connections = []
    for endpoint in topology.shards:
        connection = GeventConnection(counter=counter, **endpoint.connection_kwargs())
        connection.connect()
        connections.append(connection)
    scatter = Scatter(connections, counter)
    packed = scatter.pack_each(Keys().shards_on(topology), lambda key: zrange_rev(key, 100))

    def requests() -> None:
        for _ in range(BATCH):
            merge_top(scatter.gather_each(packed), 100)

    try:
        benchmark.pedantic(requests, rounds=10, warmup_rounds=1)
    finally:
        scatter.disconnect()
    assert counter.commands == 11 * BATCH * SHARDS  # warm-up and 10 rounds, each shard once a request
    cpu_us_per_request = benchmark.stats.stats.mean / BATCH * 1e6
    benchmark.extra_info["cpu_us_per_request"] = round(cpu_us_per_request, 1)
    benchmark.extra_info["target_us"] = 300
