"""Where the shards and the cache node live: spawned local servers, or servers the user runs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.connection import parse_url

from bench.errors import TopologyError, UsageError
from bench.topology.processes import LocalServers, ServerBinary, find_server_binary
from bench.wire.counting import ByteCounter, CountingConnection

MAX_SHARDS = 64
CONNECT_TIMEOUT_S = 3.0
# RESP2 on the raw connections that carry the load: see bench/merge.py for the measurement.
PROTOCOL = 2


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (safe for logs and results files)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def check_url(url: str) -> str:
    """Validate a shard/cache URL; raise :class:`UsageError` with one line if it is unusable."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"bad Redis URL {redact_url(url)!r}: {exc}") from None
    if parts.scheme != "redis":
        raise UsageError(f"bad Redis URL {redact_url(url)!r}: only redis://host:port[/db] is supported")
    if not parts.hostname:
        raise UsageError(f"bad Redis URL {redact_url(url)!r}: no host")
    del port
    return url


@dataclass(frozen=True)
class Endpoint:
    """One Redis node of the topology."""

    name: str  # "shard-0" .. "shard-N-1", or "cache"
    role: str  # "shard" | "cache"
    url: str  # may hold a password: never write it out, use safe_url

    @property
    def safe_url(self) -> str:
        return redact_url(self.url)

    def connection_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = parse_url(self.url)
        kwargs.update(protocol=PROTOCOL, driver_info=None, socket_connect_timeout=CONNECT_TIMEOUT_S)
        return kwargs

    def client(self, **overrides: Any) -> redis.Redis:
        """A redis-py client speaking RESP3, without CLIENT SETINFO chatter."""
        return redis.Redis(**{**self.connection_kwargs(), **overrides})

    def connection(self, counter: ByteCounter | None = None) -> CountingConnection:
        """A single connected raw connection (for scatter-gather and counted harness traffic)."""
        conn = CountingConnection(counter=counter, **self.connection_kwargs())
        try:
            conn.connect()
        except redis.RedisError as exc:
            raise TopologyError(f"cannot reach {self.name} at {self.safe_url}: {exc}") from None
        return conn


@dataclass
class Topology:
    """N shard endpoints plus one cache endpoint (the seed's "master node")."""

    provider: str  # "local" | "external"
    shards: list[Endpoint]
    cache: Endpoint
    server: str = "unknown"  # "valkey-server 8.1.8"
    server_path: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def nodes(self) -> list[Endpoint]:
        return [*self.shards, self.cache]

    def describe(self) -> dict[str, Any]:
        """JSON-safe description with passwords redacted."""
        return {
            "provider": self.provider,
            "server": self.server,
            "server_path": self.server_path,
            "shards": [e.safe_url for e in self.shards],
            "cache": self.cache.safe_url,
        }


@dataclass(frozen=True)
class TopologyOptions:
    """The topology flags every command takes."""

    shards: int | None = None
    shard_urls: tuple[str, ...] = ()
    cache_url: str | None = None
    server_bin: str | None = None
    bind: str = "127.0.0.1"

    def validate(self) -> None:
        if self.shard_urls or self.cache_url:
            if not self.shard_urls or not self.cache_url:
                raise UsageError("external topology needs both --shard-url (one per shard) and --cache-url")
            if self.shards is not None and self.shards != len(self.shard_urls):
                raise UsageError(f"--shards {self.shards} but {len(self.shard_urls)} --shard-url given")
            for url in (*self.shard_urls, self.cache_url):
                check_url(url)
            if len(set(self.shard_urls) | {self.cache_url}) != len(self.shard_urls) + 1:
                raise UsageError("every --shard-url and the --cache-url must be a different server")
        elif self.shards is not None and not 1 <= self.shards <= MAX_SHARDS:
            raise UsageError(f"--shards must be between 1 and {MAX_SHARDS}, got {self.shards}")

    @property
    def shard_count(self) -> int:
        return len(self.shard_urls) if self.shard_urls else (self.shards or 10)


def _endpoints(shard_urls: list[str], cache_url: str) -> tuple[list[Endpoint], Endpoint]:
    shards = [Endpoint(f"shard-{i}", "shard", url) for i, url in enumerate(shard_urls)]
    return shards, Endpoint("cache", "cache", cache_url)


def server_label(endpoint: Endpoint) -> str:
    """``"<server> <version>"`` as the node reports it; raises TopologyError if unreachable."""
    client = endpoint.client(socket_timeout=CONNECT_TIMEOUT_S)
    try:
        info = client.info("server")
    except redis.AuthenticationError as exc:
        raise TopologyError(f"cannot log in to {endpoint.name} at {endpoint.safe_url}: {exc}") from None
    except redis.RedisError as exc:
        raise TopologyError(f"cannot reach {endpoint.name} at {endpoint.safe_url}: {exc}") from None
    finally:
        client.close()
    if "valkey_version" in info:
        return f"valkey-server {info['valkey_version']}"
    return f"redis-server {info.get('redis_version', '?')}"


@contextlib.contextmanager
def open_topology(options: TopologyOptions) -> Iterator[Topology]:
    """Bring the topology up (or check the external one), yield it, and tear down what we started."""
    options.validate()
    if options.shard_urls:
        shards, cache = _endpoints(list(options.shard_urls), options.cache_url or "")
        labels = {server_label(e) for e in [*shards, cache]}
        yield Topology("external", shards, cache, server=", ".join(sorted(labels)))
        return
    binary: ServerBinary = find_server_binary(options.server_bin)
    names = [f"shard-{i}" for i in range(options.shard_count)] + ["cache"]
    servers = LocalServers(binary, names, bind=options.bind)
    try:
        started = servers.start()
        shards, cache = _endpoints([s.url for s in started[:-1]], started[-1].url)
        yield Topology("local", shards, cache, server=binary.label, server_path=binary.path)
    finally:
        servers.stop()
