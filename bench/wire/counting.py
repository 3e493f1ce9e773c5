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
        received = self._sock.recv_into(buffer, nbytes, flags)
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

    def __init__(self, *args: Any, counter: ByteCounter | None = None, **kwargs: Any) -> None:
        self.counter = counter if counter is not None else ByteCounter()
        super().__init__(*args, **kwargs)

    def _connect(self) -> Any:
        return CountingSocket(super()._connect(), self.counter)
