"""Putting one sorted set onto one node: a single ``RESTORE`` where the server takes it, else ``ZADD``s.

``RESTORE`` costs the server ~5x less CPU per member (see :mod:`bench.seeding.rdb`), so it is the default.
A server can refuse it (an ACL without ``@dangerous``, a managed service), and a payload cannot be
longer than the server's ``proto-max-bulk-len``; those sets go in as pipelined ``ZADD``s.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import redis

from bench.seeding.rdb import payload_bytes, zset_payload
from bench.topology import Endpoint

ZADD_BATCH = 10_000  # members per ZADD: large enough to amortise a round trip, small enough not to stall
PIPELINE_DEPTH = 8  # ZADDs in flight per shard before we read replies
DEFAULT_PROTO_MAX_BULK_LEN = 512 * 1024**2  # the server default, assumed when CONFIG GET is refused

CountFn = Callable[[int], None]


def encode_zadd(key: bytes, scores: npt.NDArray[np.int64], members: npt.NDArray[np.int64]) -> bytes:
    """RESP bytes of ``ZADD key score member ...`` (built directly: redis-py's packer is ~3x slower)."""
    score_b = scores.astype("S20").tolist()
    member_b = members.astype("S20").tolist()
    head = b"*%d\r\n$4\r\nZADD\r\n$%d\r\n%b\r\n" % (2 + 2 * len(member_b), len(key), key)
    body = b"".join(
        [
            b"$%d\r\n%b\r\n$%d\r\n%b\r\n" % (len(s), s, len(m), m)
            for s, m in zip(score_b, member_b, strict=True)
        ]
    )
    return head + body


def _raise_if_error(reply: object) -> object:
    if isinstance(reply, Exception):
        raise reply
    return reply


class SetLoader:
    """One node's connection for seeding: sends sets, then collects the replies."""

    def __init__(
        self, endpoint: Endpoint, sent: CountFn | None = None, stored: CountFn | None = None
    ) -> None:
        self.endpoint = endpoint
        self._sent = sent  # called with the members of each command written to the socket
        self._stored = stored  # called with the members each reply confirms
        self.conn = endpoint.connection(bulk=True)  # a large RESTORE's reply takes seconds to come
        self._pending: list[int] = []  # members per command whose reply is still to come
        self._restore_limit: int | None = None

    def probe_restore(self, key: bytes) -> None:
        """Find out whether this node takes ``RESTORE`` (with a one-member set on ``key``, deleted after)."""
        try:
            self._call(b"RESTORE", key, b"0", zset_payload(np.zeros(1, np.int64), np.zeros(1, np.int64)))
            self._call(b"DEL", key)
        except redis.ResponseError:
            return  # not allowed, or an RDB format this server does not read: ZADD it is
        self._restore_limit = DEFAULT_PROTO_MAX_BULK_LEN
        try:
            reply = self._call(b"CONFIG", b"GET", b"proto-max-bulk-len")
        except redis.ResponseError:
            return
        if isinstance(reply, list) and len(reply) == 2:
            self._restore_limit = int(reply[1])

    def _call(self, *args: bytes | npt.NDArray[np.uint8]) -> object:
        self.conn.send_packed_command(_pack(args))
        return _raise_if_error(self.conn.read_response())

    def uses_restore(self, members: int) -> bool:
        return self._restore_limit is not None and payload_bytes(members) <= self._restore_limit

    def send_set(self, key: bytes, ids: npt.NDArray[np.int64], scores: npt.NDArray[np.int64]) -> None:
        """Send the set (members in descending order); the server may still be storing it on return."""
        if len(ids) == 0:
            return
        if self.uses_restore(len(ids)):
            self.conn.send_packed_command(_pack((b"RESTORE", key, b"0", zset_payload(ids, scores))))
            self._pending.append(len(ids))
            if self._sent is not None:
                self._sent(len(ids))
            return
        for start in range(0, len(ids), ZADD_BATCH):
            end = min(start + ZADD_BATCH, len(ids))
            self.conn.send_packed_command([encode_zadd(key, scores[start:end], ids[start:end])])
            self._pending.append(end - start)
            if self._sent is not None:
                self._sent(end - start)
            if len(self._pending) >= PIPELINE_DEPTH:
                self.collect(keep=PIPELINE_DEPTH // 2)

    def collect(self, keep: int = 0) -> None:
        """Read replies until at most ``keep`` are outstanding."""
        while len(self._pending) > keep:
            _raise_if_error(self.conn.read_response())
            members = self._pending.pop(0)
            if self._stored is not None:
                self._stored(members)

    def close(self) -> None:
        self.conn.disconnect()


def _pack(args: tuple[bytes | npt.NDArray[np.uint8], ...]) -> list[bytes | npt.NDArray[np.uint8]]:
    """RESP for ``args`` as a list of buffers, so a large payload is sent without being copied."""
    out: list[bytes | npt.NDArray[np.uint8]] = [b"*%d\r\n" % len(args)]
    for arg in args:
        out += [b"$%d\r\n" % (arg.nbytes if isinstance(arg, np.ndarray) else len(arg)), arg, b"\r\n"]
    return out
