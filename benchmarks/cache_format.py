"""Sorted set or blob? Client CPU and bytes per cached top-n read, through the strategies themselves.

Run: .venv/bin/python benchmarks/cache_format.py [--players 200000] [--rounds 5000]
Spawns 2 shards + a cache node, seeds, writes every cache format once, then times ``top(n)`` of
``cached`` (ZRANGE ... WITHSCORES) and ``blob`` (GETRANGE) with time.process_time() (this
process's CPU only; the servers are other processes), with and without decoding the rows. Repeats
alternate between the formats so machine noise hits both alike; the best repeat is shown.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from bench.cache.formats import FORMATS as CACHE_FORMATS
from bench.cache.refresher import CacheRefresher
from bench.keys import Keys
from bench.seeding.seed import seed
from bench.strategies import REGISTRY, Strategy
from bench.topology import TopologyOptions, open_topology

FORMATS = ("cached", "blob")


def measure(call: Callable[[], object], rounds: int) -> float:
    """µs of client CPU per call."""
    started = time.process_time()
    for _ in range(rounds):
        call()
    return (time.process_time() - started) / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--players", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with open_topology(TopologyOptions(shards=2)) as topology:
        keys = Keys()
        seed(topology, keys, args.players, 42)
        refresher = CacheRefresher(topology, keys, tuple(CACHE_FORMATS.values()))
        refresher.refresh()
        refresher.close()
        strategies: dict[str, Strategy] = {name: REGISTRY[name](topology, keys) for name in FORMATS}
        try:
            print(
                f"{args.players:,} players; µs of client CPU per read, best of {args.repeats} x {args.rounds}"
            )
            print(f"{'n':>5} {'format':>7} {'bytes/read':>10} {'read':>7} {'read+rows':>9}")
            for n in (10, 100, 1000):
                expected = strategies["cached"].top(n).rows()
                best: dict[tuple[str, bool], float] = {}
                for _ in range(args.repeats):
                    for name, strategy in strategies.items():
                        for rows in (False, True):
                            call = (
                                (lambda s=strategy, n=n: s.top(n).rows())
                                if rows
                                else (lambda s=strategy, n=n: s.top(n))
                            )
                            us = measure(call, args.rounds)
                            best[name, rows] = min(best.get((name, rows), us), us)
                for name, strategy in strategies.items():
                    assert strategy.top(n).rows() == expected
                    before = strategy.counter.bytes_received
                    strategy.top(n)
                    reply_bytes = strategy.counter.bytes_received - before
                    read_us, rows_us = best[name, False], best[name, True]
                    print(f"{n:>5} {name:>7} {reply_bytes:>10,} {read_us:>7.1f} {rows_us:>9.1f}")
        finally:
            for strategy in strategies.values():
                strategy.close()


if __name__ == "__main__":
    main()
