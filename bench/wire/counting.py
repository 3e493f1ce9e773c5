"""Client-side byte counting for redis-py connections, so harness traffic can be told apart from load."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

import redis


@dataclass
class ByteCounter:
    """Bytes and commands one client sent to / received from one Redis node."""

    bytes_sent: int = 0
    bytes_received: int = 0
    commands: int = 0
    redirects: int = 0  # MOVED and ASK replies followed (bench/wire/redirect.py)


class CountingSocket:
    """Wraps a socket and counts the bytes that cross it; everything else is passed through."""

    __slots__ = ("_counter", "_sock")

    def __init__(self, sock: socket.socket, counter: ByteCounter) -> None:
        self._sock = sock
        self._counter = counter

    def sendall(self, data: Any, *args: Any) -> None:
        # Commands are a few dozen bytes: one send() nearly always takes them whole, and skips the
        # chunking loop of gevent's sendall (a fifth of the naive path's samples under py-spy).
        sent = self._sock.send(data, *args)
        if sent < len(data):
            self._sock.sendall(memoryview(data)[sent:], *args)
        self._counter.bytes_sent += len(data)

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        # nbytes 0 is "the whole buffer" to a plain socket but "nothing" to gevent's TLS socket (its
        # reads came back empty, taken for a closed connection): passed on only when set.
        if nbytes:
            received = self._sock.recv_into(buffer, nbytes, flags)
        else:
            received = self._sock.recv_into(buffer, flags=flags) if flags else self._sock.recv_into(buffer)
        if not flags & socket.MSG_PEEK:
            self._counter.bytes_received += received
        return received

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        data = self._sock.recv(bufsize, flags)
        # Health checks peek at the socket; a peek does not consume what Redis sent.
        if not flags & socket.MSG_PEEK:
            self._counter.bytes_received += len(data)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class CountingConnection(redis.Connection):
    """A redis-py TCP connection whose socket counts bytes into ``counter``."""

    def __init__(self, *, counter: ByteCounter | None = None, **kwargs: Any) -> None:
        self.counter = counter if counter is not None else ByteCounter()
        self._kwargs = kwargs
        self._siblings: dict[tuple[str, int], CountingConnection] = {}
        super().__init__(**kwargs)

    def _connect(self) -> Any:
        return CountingSocket(super()._connect(), self.counter)

    def sibling(self, host: str, port: int) -> CountingConnection:
        """A connection like this one to another node, counted alike; kept until this one disconnects.

        What an ASK is followed on (bench/wire/redirect.py): a slot in migration sends a few commands
        to the importing node until the move completes, and each would otherwise open a socket.
        """
        sibling = self._siblings.get((host, port))
        if sibling is None:
            sibling = type(self)(counter=self.counter, **{**self._kwargs, "host": host, "port": port})
            self._siblings[host, port] = sibling
        return sibling

    def disconnect(self, *args: Any, **kwargs: Any) -> None:
        siblings, self._siblings = getattr(self, "_siblings", {}), {}
        for sibling in siblings.values():
            sibling.disconnect()
        super().disconnect(*args, **kwargs)


class CountingSSLConnection(CountingConnection, redis.SSLConnection):
    """The same over TLS (a ``rediss://`` URL). The counting socket wraps the TLS socket, so what is
    counted is Redis protocol bytes, as the server's INFO counts them, not TLS records."""
