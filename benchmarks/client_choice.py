"""Which client for the naive fan-out? Client CPU per 10-shard top-100 scatter-gather, by variant.

Run: .venv/bin/python benchmarks/client_choice.py [--gevent]
Spawns 10 local servers (bench.topology.base), seeds 200k players, then times 3000 fan-outs per variant
with os.times() (user + system CPU of this process only; the servers are other processes).
"""

from __future__ import annotations

import sys

if "--gevent" in sys.argv:
    from gevent import monkey

    monkey.patch_all()

import os
import socket
import time
from collections.abc import Callable
from typing import Any

import hiredis
import redis

from bench.keys import Keys
from bench.seeding.seed import seed
from bench.topology import TopologyOptions, open_topology

ROUNDS = 3000
KEY = Keys().prefix  # the shard key outside a cluster (bench/keys.py)


def raw_hiredis(urls: list[tuple[str, int]], protocol: int) -> Callable[[], list[Any]]:
    """Plain sockets + hiredis.Reader: the floor for any Python client."""
    socks, readers = [], []
    for host, port in urls:
        sock = socket.create_connection((host, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = hiredis.Reader()
        if protocol == 3:
            sock.sendall(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n")
            while reader.gets() is False:
                reader.feed(sock.recv(65536))
        socks.append(sock)
        readers.append(reader)
    command = b"".join(redis.Connection().pack_command("ZRANGE", KEY, 0, 99, "REV", "WITHSCORES"))
    buffer = bytearray(65536)

    def fan_out() -> list[Any]:
        for sock in socks:
            sock.sendall(command)
        replies = []
        for sock, reader in zip(socks, readers, strict=True):
            while (reply := reader.gets()) is False:
                reader.feed(buffer, 0, sock.recv_into(buffer))
            replies.append(reply)
        return replies

    return fan_out


def redis_py_connection(urls: list[tuple[str, int]], protocol: int) -> Callable[[], list[Any]]:
    """redis-py Connection objects: send all, then read all, no response callbacks."""
    conns = []
    for host, port in urls:
        conn = redis.Connection(host=host, port=port, protocol=protocol, driver_info=None)
        conn.connect()
        conns.append(conn)
    packed = conns[0].pack_command("ZRANGE", KEY, 0, 99, "REV", "WITHSCORES")

    def fan_out() -> list[Any]:
        for conn in conns:
            conn.send_packed_command(packed, check_health=False)
        return [conn.read_response() for conn in conns]

    return fan_out


def redis_py_client(urls: list[tuple[str, int]], protocol: int) -> Callable[[], list[Any]]:
    """redis-py Redis.zrange, one shard after another (response callbacks included)."""
    clients = [redis.Redis(host=h, port=p, protocol=protocol, driver_info=None) for h, p in urls]

    def fan_out() -> list[Any]:
        return [c.zrange(KEY, 0, 99, desc=True, withscores=True) for c in clients]

    return fan_out


def cpu_us_per_call(fn: Callable[[], Any]) -> float:
    for _ in range(100):
        fn()
    before = os.times()
    for _ in range(ROUNDS):
        fn()
    after = os.times()
    return (after.user - before.user + after.system - before.system) / ROUNDS * 1e6


def main() -> None:
    mode = "gevent" if "--gevent" in sys.argv else "plain"
    with open_topology(TopologyOptions(shards=10)) as topology:
        seed(topology, Keys(), 200_000, 1)
        urls = [("127.0.0.1", int(e.url.rsplit(":", 1)[1])) for e in topology.shards]
        started = time.perf_counter()
        print(f"{'variant':<22} {'RESP':>4}  client CPU µs per naive request ({mode})")
        for make in (raw_hiredis, redis_py_connection, redis_py_client):
            for protocol in (2, 3):
                cpu_us = cpu_us_per_call(make(urls, protocol))
                print(f"{make.__name__:<22} {protocol:>4}  {cpu_us:8.0f}")  # fmt: skip
        print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
