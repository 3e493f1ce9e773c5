"""The delay relay in front of a real spawned server: a round trip it adds shows up in PING."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bench.serverbinary import find_server_binary
from bench.topology.delayrelay import DelayRelays
from bench.topology.processes import LocalServers

PINGS = 30


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    servers = LocalServers(find_server_binary(), ["s0"])
    servers.start()
    try:
        yield "127.0.0.1", servers.servers[0].port
    finally:
        servers.stop()


def _ping_median_ms(port: int) -> float:
    client = redis.Redis(port=port, socket_timeout=5)
    try:
        client.ping()  # connect outside the timing
        times = []
        for _ in range(PINGS):
            start = time.perf_counter()
            client.ping()
            times.append((time.perf_counter() - start) * 1000)
    finally:
        client.close()
    return statistics.median(times)


def test_relay_adds_its_profiles_round_trip(server: tuple[str, int], tmp_path: Path) -> None:
    profile = tmp_path / "fixed.toml"
    profile.write_text("[rtt_ms]\np0 = 20\np100 = 20\n")
    with DelayRelays([server], "loopback") as zero:
        zero_ms = _ping_median_ms(zero.ports[0])
    with DelayRelays([server], str(profile)) as delayed:
        delayed_ms = _ping_median_ms(delayed.ports[0])
        # Replies and keys pass through unchanged.
        client = redis.Redis(port=delayed.ports[0], socket_timeout=5)
        client.set("relay-key", "v")
        assert client.get("relay-key") == b"v"
        client.close()
    assert delayed_ms - zero_ms >= 15.0, (zero_ms, delayed_ms)


def test_relay_process_is_gone_after_the_block(server: tuple[str, int]) -> None:
    relays = DelayRelays([server, server], "same-zone")
    with relays:
        assert len(relays.ports) == 2
        process = relays._process
        assert process is not None
    assert process.poll() is not None
