"""One policy for every connection the harness makes: its timeouts, no retries, and TLS where asked.

redis-py 8.1 gives a new ``Redis`` client 10 retries with exponential backoff and every connection a
5 s socket timeout. On a measured path a retry hides a fault (a stalled shard looked like a slow
request, or like nothing at all) and a hang stops the schedule, so here every command has the
socket timeout ``--timeout-ms`` and no connection retries: a stalled node shows up in the data as
a ``TimeoutError`` after that long. Connecting has its own fixed limit; seeding's bulk loads get a
long one, because a server takes seconds of CPU to store a ``RESTORE`` of millions of members.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from redis.backoff import NoBackoff
from redis.retry import Retry

from bench.wire.tls import TlsFiles

# Healthy requests here take under 10 ms even at p99.9 under load (docs/findings.md); a second is a
# stall, not a slow reply, and short enough that a fault shows within one telemetry sample or two.
DEFAULT_TIMEOUT_MS = 1000.0
CONNECT_TIMEOUT_S = 3.0
# A RESTORE of 10M members took 6 s of server CPU, and ten servers share the cores while they load.
BULK_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class ConnectionPolicy:
    """Socket timeouts, (no) retries, and the TLS files of ``rediss://`` URLs, for every connection."""

    timeout_ms: float = DEFAULT_TIMEOUT_MS
    tls: TlsFiles = field(default_factory=TlsFiles)

    def __post_init__(self) -> None:
        if not self.timeout_ms > 0:
            raise ValueError(f"timeout must be positive, got {self.timeout_ms} ms")

    def with_run_ca(self, ca_cert: str) -> ConnectionPolicy:
        """This policy trusting the CA a spawned ``--tls`` topology made; the client files given stay."""
        return replace(self, tls=replace(self.tls, ca_cert=ca_cert))

    @property
    def timeout_s(self) -> float:
        return self.timeout_ms / 1000.0

    def connection_kwargs(self, *, bulk: bool = False, tls: bool = False) -> dict[str, Any]:
        """redis-py keyword arguments for a connection or client.

        Args:
            bulk: a seeding connection, whose replies may take minutes to come.
            tls: the URL is ``rediss://``: the TLS files' arguments too.
        """
        return {
            **(self.tls.redis_kwargs() if tls else {}),
            "socket_timeout": max(BULK_TIMEOUT_S, self.timeout_s) if bulk else self.timeout_s,
            # Never longer than a command may take: a node that stopped accepting (a stalled server's
            # listen backlog full) would otherwise hold a request 3 s where a stalled reply holds it 1 s.
            "socket_connect_timeout": min(CONNECT_TIMEOUT_S, self.timeout_s),
            "retry": Retry(NoBackoff(), 0),
            "retry_on_error": [],
        }
