"""`lbbench top`, `refresh`, `seed`, `up` and `faults`: one-shot work on a topology, or help."""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from bench.console import status
from bench.errors import EXIT_OK, UsageError
from bench.keys import Keys
from bench.run.loadconfig import LOAD_CONFIG_ENV
from bench.run.options import CompareOptions
from bench.topology import Topology, get_provider, open_topology
from bench.units import format_duration
from lbbench.options import topology_options


@contextmanager
def seeded(args: argparse.Namespace, *, global_set: bool = False) -> Iterator[Topology]:
    """The topology; one the harness owns is seeded first (it starts empty), another is used as it is."""
    from bench.seeding.seed import seed_with_progress

    with open_topology(topology_options(args)) as topology:
        if topology.owns_data:
            keys = Keys(args.key_prefix)
            seed_with_progress(topology, keys, args.players, args.seed, global_set=global_set)
        yield topology


def cmd_top(args: argparse.Namespace) -> int:
    from bench.cache.refresher import CacheRefresher
    from bench.strategies import get_strategy

    strategy_class = get_strategy(args.strategy)
    with seeded(args, global_set=strategy_class.needs_global_set) as topology:
        keys = Keys(args.key_prefix)
        if strategy_class.needs_refresher and topology.owns_data:
            with closing(CacheRefresher(topology, keys, strategy_class.cache_formats)) as refresher:
                refresher.refresh()
        with closing(strategy_class(topology, keys)) as strategy:
            ranking = strategy.top(args.n)
    entries = [{"player": member.decode(), "score": score} for member, score in ranking.rows()]
    if args.json:
        print(json.dumps(entries))
    else:
        for rank, entry in enumerate(entries, 1):
            print(f"{rank:>5}  {entry['player']:>12}  {entry['score']:>14,.0f}")
    return EXIT_OK


def cmd_refresh(args: argparse.Namespace) -> int:
    from bench.cache.refresher import CacheRefresher
    from bench.strategies import get_strategy

    formats = get_strategy(args.strategy).cache_formats
    if not formats:
        raise UsageError(f"strategy {args.strategy!r} reads no cache: nothing to refresh")
    with (
        seeded(args) as topology,
        closing(CacheRefresher(topology, Keys(args.key_prefix), formats)) as refresher,
    ):
        record = refresher.refresh()
    status(
        f"refreshed {record.entries} entries in {record.duration_s * 1000:.1f} ms: "
        f"{record.commands} commands, {record.bytes_received:,} bytes from Redis, "
        f"{record.bytes_sent:,} bytes to Redis"
    )
    return EXIT_OK


def cmd_seed(args: argparse.Namespace) -> int:
    from bench.seeding.seed import seed_with_progress

    with open_topology(topology_options(args)) as topology:
        result = seed_with_progress(topology, Keys(args.key_prefix), args.players, args.seed)
        memory = result.memory_after
        status(
            f"seeded {result.players:,} players into {len(topology.shards)} shards in "
            f"{result.seconds:.2f} s ({result.players_per_s:,.0f} players/s; generating "
            f"{result.generate_seconds:.1f} s); shards' used_memory "
            f"{memory.used_memory_bytes / 2**30:.2f} GiB, RSS {memory.rss_bytes / 2**30:.2f} GiB, "
            f"{result.bytes_per_player:.1f} bytes/player; client peak RSS "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB"  # ru_maxrss is in KiB
        )
        if topology.owns_data:
            status("the spawned servers stop now; use `lbbench up` to keep a seeded topology running")
    return EXIT_OK


def cmd_up(args: argparse.Namespace) -> int:
    from bench.cache.formats import FORMATS
    from bench.cache.refresher import CacheRefresher, RefresherThread

    provider = get_provider(topology_options(args))
    if not provider.owns_data:
        raise UsageError(
            f"`lbbench up` starts servers; with --provider {provider.name} there is nothing to start"
        )
    # Seed for every strategy, so plain `locust -f` can run any of them against this topology.
    with seeded(args, global_set=True) as topology:
        refresher = CacheRefresher(topology, Keys(args.key_prefix), tuple(FORMATS.values()))
        thread = RefresherThread(refresher, args.refresh_interval)
        try:
            refresher.refresh()
            thread.start()
            _print_topology(topology, args)
            every = format_duration(args.refresh_interval)
            status(f"{topology.server} up, cache refreshed every {every}; Ctrl-C stops it")
            # A timed sleep wakes up to run signal handlers even if a thread we do not own took the signal.
            while True:
                time.sleep(1.0)
        finally:
            thread.stop()
            refresher.close()
    return EXIT_OK


def _print_topology(topology: Topology, args: argparse.Namespace) -> None:
    """The URLs, the flags that reach them, and the load config for plain `locust -f` (stdout)."""
    flags = " ".join(f"--shard-url {e.url}" for e in topology.shards) + f" --cache-url {topology.cache.url}"
    if topology.global_tag is not None:  # a cluster: its cache is one of the shards, found by discovery
        flags = f"--cluster-url {topology.shards[0].url}"
    print(f"shards: {' '.join(e.url for e in topology.shards)}")
    print(f"cache:  {topology.cache.url}")
    print(f"flags:  {flags}")
    from bench.run.phase import load_config

    # Ready to paste before `locust -f loadgen/locustfile.py` (web UI) or a remote `--worker`: compare's
    # defaults with this topology's data, in a closed loop (Locust's -u and its web UI set the pace).
    options = CompareOptions(players=args.players, seed=args.seed, key_prefix=args.key_prefix, rps=None)
    config = load_config(options, "cached", topology.to_load_config(), str(Path("results") / "locust-ui"))
    print(f"export {LOAD_CONFIG_ENV}='{config.to_env()[LOAD_CONFIG_ENV]}'", flush=True)


def cmd_faults(_args: argparse.Namespace) -> int:
    from bench.faults.spec import describe
    from bench.topology import PROVIDERS

    print(describe())
    print("\nserver faults each provider can inject (refresher-dead works everywhere):")
    for name, provider in PROVIDERS.items():
        print(f"  {name:<17} {', '.join(sorted(provider.server_faults)) or '-'}")
    return EXIT_OK
