"""One Redis node of a topology: its URL, how to connect to it, and how to name it safely in output."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.connection import parse_url

from bench.declare import Kind
from bench.errors import TopologyError, UsageError
from bench.wire.counting import ByteCounter, CountingConnection, CountingSSLConnection
from bench.wire.policy import ConnectionPolicy

# RESP2 on every connection: hiredis hands back flat [member, score, ...] lists, which the hot path
# keeps unparsed (bench/wire/merge.py has the measurement against RESP3).
PROTOCOL = 2


REDACTED = "***"  # what a password becomes in anything the harness writes


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` (as it goes in a URL: quoted) for its password, user and host kept."""
    parts = urlsplit(url)
    # From the netloc itself: .hostname would lower-case the host and drop an IPv6 address's brackets.
    userinfo, _, hostport = parts.netloc.rpartition("@")
    netloc = f"{userinfo.partition(':')[0]}:{password}@{hostport}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (safe for logs and results files)."""
    return url if urlsplit(url).password is None else with_password(url, REDACTED)


class RedisUrl(Kind[str]):
    """A shard, cache or cluster node URL; written to scenario files without its password."""

    metavar = "URL"

    def parse(self, text: str) -> str:
        if not text:
            raise ValueError("must not be empty")
        if urlsplit(text).password == REDACTED:
            raise ValueError(
                f"{redact_url(text)} has {REDACTED} for a password (scenario files keep none): give this URL,"
                " password included, on the command line"
            )
        return text

    def dump(self, value: str) -> object:
        return redact_url(value)

    def describe(self) -> str:
        return "`redis://[user:password@]host:port[/db]`, or `rediss://` for TLS"


#: redis:// in the clear, rediss:// over TLS (the files: --tls-ca-cert and the rest, bench/wire/tls.py).
URL_SCHEMES = ("redis", "rediss")
TLS_SCHEME = "rediss"


def check_url(url: str) -> str:
    """Validate a shard/cache URL; raise :class:`UsageError` with one line if it is unusable."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"bad Redis URL {redact_url(url)!r}: {exc}") from None
    if parts.scheme not in URL_SCHEMES:
        raise UsageError(
            f"bad Redis URL {redact_url(url)!r}: only redis://host:port[/db] (rediss:// for TLS) is supported"
        )
    if not parts.hostname:
        raise UsageError(f"bad Redis URL {redact_url(url)!r}: no host")
    del port
    return url


@dataclass(frozen=True)
class Endpoint:
    """One node: ``shard-0`` .. ``shard-N-1`` or ``cache``; every connection follows ``policy``."""

    name: str
    role: str  # "shard" | "cache"
    url: str  # may hold a password: never write it out, use safe_url
    policy: ConnectionPolicy = field(default_factory=ConnectionPolicy)
    #: In a Redis Cluster, the hash tag whose slot this master owns: a key holding ``{key_tag}`` lives
    #: here, so a plain connection to this node can use it without a MOVED. None outside a cluster.
    key_tag: str | None = None

    @property
    def safe_url(self) -> str:
        return redact_url(self.url)

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == TLS_SCHEME

    def connection_kwargs(self, *, bulk: bool = False) -> dict[str, Any]:
        """A connection's arguments: the URL's, then the policy's (timeouts, no retries, TLS files)."""
        kwargs: dict[str, Any] = parse_url(self.url)
        kwargs.pop("connection_class", None)  # rediss:// names redis-py's own: ours counts (connection())
        kwargs.update(
            protocol=PROTOCOL, driver_info=None, **self.policy.connection_kwargs(bulk=bulk, tls=self.tls)
        )
        return kwargs

    def client(self) -> redis.Redis:
        """A redis-py client for harness housekeeping (no retries; no CLIENT SETINFO chatter in the clear)."""
        kwargs = self.connection_kwargs()
        if self.tls:
            # A TLS 1.3 server sends session tickets after the handshake; with nothing read on
            # connect, redis-py's pool takes them for a stale reply ("Connection not ready").
            # CLIENT SETINFO on connect reads past them (two commands per housekeeping connection).
            del kwargs["driver_info"]
        return redis.Redis(**kwargs, ssl=self.tls)

    def connection(self, counter: ByteCounter | None = None, *, bulk: bool = False) -> CountingConnection:
        """A single connected raw connection whose bytes and commands ``counter`` counts."""
        kind = CountingSSLConnection if self.tls else CountingConnection
        conn = kind(counter=counter, **self.connection_kwargs(bulk=bulk))
        try:
            conn.connect()
        except redis.RedisError as exc:
            raise TopologyError(f"cannot reach {self.name} at {self.safe_url}: {exc}") from None
        return conn

    def server_label(self) -> str:
        """``"<server> <version>"`` as the node reports it; UsageError if the URL cannot be used."""
        client = self.client()
        try:
            info = client.info("server")
        except redis.AuthenticationError as exc:
            raise UsageError(f"cannot log in to {self.name} at {self.safe_url}: {exc}") from None
        except redis.RedisError as exc:
            raise UsageError(f"cannot reach {self.name} at {self.safe_url}: {exc}") from None
        finally:
            client.close()
        if "valkey_version" in info:
            return f"valkey-server {info['valkey_version']}"
        return f"redis-server {info.get('redis_version', '?')}"
