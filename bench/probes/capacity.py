"""What one node can serve: each read path's exact command driven by redis-benchmark, p99 <= 1 ms.

Three commands, each against the node that serves it:

- ``zset``: the cached read, ``ZRANGE <cache key> 0 n-1 REV WITHSCORES`` on the cache node's
  1000-entry sorted set;
- ``blob``: the blob read, ``GETRANGE <cache key>:blob 0 n*20-1`` (bench/cache/formats/blob.py);
- ``shard``: one of naive's n-shard fan-out, ``ZRANGE <shard key> 0 n-1 REV WITHSCORES`` on shard-0.

redis-benchmark has no rate limit, so the probe sweeps the concurrency (``-c`` 1, 2, 4, ...) and keeps
the highest throughput whose p99 stayed at or below the limit: each step roughly doubles the load
in flight until the node saturates, after which more clients only queue. The sweep of a command
stops after two points in a row over the limit, or when its share of the time budget is spent.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bench.cache.formats import BLOB, SORTED_SET
from bench.cache.formats.blob import BLOB_RECORD_BYTES
from bench.cache.refresher import CacheRefresher
from bench.console import status
from bench.errors import RunError
from bench.keys import Keys
from bench.probes.meta import machine, utc_now
from bench.probes.rbench import BenchPoint, find_tool, run_point
from bench.topology import Endpoint, Topology
from bench.units import format_duration

P99_LIMIT_MS = 1.0
CONCURRENCY_LEVELS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
POINT_S = 0.5  # aimed length of one point; the first point's count is fixed (no rate known yet)
FIRST_POINT_REQUESTS = 5_000
MIN_REQUESTS = 2_000
# Past the knee p99 only grows with concurrency; two points over the limit in a row say it is passed,
# where one alone can be a stall of the shared machine.
STOP_AFTER_OVER = 2
#: `lbbench capacity` default budget; compare's probe gets less (--capacity-s).
DEFAULT_BUDGET_S = 60.0


@dataclass(frozen=True)
class Target:
    """One read path's command and the node it is sent to."""

    name: str  # zset | blob | shard
    path: str  # what a request of the harness does with it
    endpoint: Endpoint
    command: list[str]


def targets(topology: Topology, keys: Keys, top_n: int) -> list[Target]:
    """The three read commands exactly as the strategies send them, each on its node."""
    keys = keys.on(topology)
    shard = topology.shards[0]
    last = str(top_n - 1)
    return [
        Target(
            "zset",
            "cached: the sorted-set cache",
            topology.cache,
            ["ZRANGE", keys.cache, "0", last, "REV", "WITHSCORES"],
        ),
        Target(
            "blob",
            "blob: the blob cache",
            topology.cache,
            ["GETRANGE", BLOB.key(keys), "0", str(top_n * BLOB_RECORD_BYTES - 1)],
        ),
        Target(
            "shard",
            f"naive: one shard's top-{top_n} read (x{len(topology.shards)} per request)",
            shard,
            ["ZRANGE", keys.shard_on(shard), "0", last, "REV", "WITHSCORES"],
        ),
    ]


def best_point(points: Sequence[BenchPoint], p99_limit_ms: float = P99_LIMIT_MS) -> BenchPoint | None:
    """The highest throughput among the points whose p99 is at or below the limit (None: none is)."""
    within = [p for p in points if p.latency_ms_p99 <= p99_limit_ms]
    return max(within, key=lambda p: p.rps, default=None)


def next_requests(previous: BenchPoint | None, clients: int, point_s: float = POINT_S) -> int:
    """Requests for the next point: ~point_s at the last rate, at least MIN_REQUESTS and 100 per client."""
    if previous is None:
        return max(FIRST_POINT_REQUESTS, 100 * clients)
    return max(MIN_REQUESTS, 100 * clients, round(previous.rps * point_s))


def sweep(
    run: Callable[[int, int], BenchPoint],
    budget_s: float,
    p99_limit_ms: float = P99_LIMIT_MS,
    levels: Sequence[int] = CONCURRENCY_LEVELS,
    clock: Callable[[], float] = time.perf_counter,
) -> list[BenchPoint]:
    """Points at rising concurrency until two in a row exceed the p99 limit or the budget would run out.

    Args:
        run: runs one point, ``run(clients, requests)``.
    """
    deadline = clock() + budget_s
    points: list[BenchPoint] = []
    for clients in levels:
        previous = points[-1] if points else None
        requests = next_requests(previous, clients)
        if previous is not None and clock() + requests / max(previous.rps, 1.0) > deadline:
            break
        points.append(run(clients, requests))
        if all(p.latency_ms_p99 > p99_limit_ms for p in points[-STOP_AFTER_OVER:]) and (
            len(points) >= STOP_AFTER_OVER
        ):
            break
    return points


def skip_reason(topology: Topology) -> str | None:
    """Why the probe cannot run on this topology with this machine (None: it can)."""
    if any(urlsplit(e.url).password is not None for e in topology.servers):
        return "redis-benchmark takes a password only on its command line, where any user can read it"
    tool, why = find_tool()
    return why if tool is None else None


def _command_entry(target: Target, points: list[BenchPoint], p99_limit_ms: float) -> dict[str, Any]:
    best = best_point(points, p99_limit_ms)
    return {
        "path": target.path,
        "node": target.endpoint.name,
        "command": " ".join(target.command),
        "points": [p.to_json() for p in points],
        "capacity": None if best is None else best.to_json(),
        "reason": None if best is not None else f"no concurrency kept p99 at or below {p99_limit_ms:g} ms",
    }


def _key_entries(topology: Topology, keys: Keys) -> dict[str, int]:
    keys = keys.on(topology)
    cache, shard = topology.cache.client(), topology.shards[0].client()
    try:
        return {
            "zset": int(cache.zcard(keys.cache)),
            "blob": int(cache.strlen(BLOB.key(keys))) // BLOB_RECORD_BYTES,
            "shard": int(shard.zcard(keys.shard_on(topology.shards[0]))),
        }
    finally:
        cache.close()
        shard.close()


def probe(topology: Topology, keys: Keys, budget_s: float, top_n: int = 100) -> dict[str, Any]:
    """capacity.json: refresh both caches, sweep each command; ``available: false`` with the reason if not."""
    reason = skip_reason(topology)
    if reason is not None:
        return {"available": False, "reason": reason}
    tool, version = find_tool()
    assert tool is not None  # skip_reason checked it
    found = targets(topology, keys, top_n)
    sends = "; ".join(f"{' '.join(target.command)} to {target.endpoint.name}" for target in found)
    status(
        f"capacity: for up to {format_duration(budget_s)} in all, redis-benchmark sends {sends}, at"
        f" {CONCURRENCY_LEVELS[0]} to {CONCURRENCY_LEVELS[-1]} connections (after one refresh of both caches)"
    )
    with contextlib.closing(CacheRefresher(topology, keys, (SORTED_SET, BLOB))) as refresher:
        refresher.refresh()
    entries = _key_entries(topology, keys)
    if entries["shard"] < top_n:
        raise RunError(f"shard-0 holds {entries['shard']} players, fewer than the top {top_n} it is read for")
    commands = {}
    for target in found:
        status(f"capacity: {' '.join(target.command)} on {target.endpoint.name}, -c 1 and up")

        def run(clients: int, requests: int, target: Target = target) -> BenchPoint:
            return run_point(tool, target.endpoint, target.command, clients, requests)

        points = sweep(run, budget_s / len(found))
        commands[target.name] = {
            **_command_entry(target, points, P99_LIMIT_MS),
            "key_entries": entries[target.name],
        }
    return {
        "available": True,
        "created_utc": utc_now().isoformat(timespec="seconds"),
        "tool": version,
        "server": topology.server,
        "provider": topology.provider,
        "machine": machine(),
        "p99_limit_ms": P99_LIMIT_MS,
        "budget_s": budget_s,
        "top_n": top_n,
        "method": (
            "closed loop (redis-benchmark has no rate limit): -c swept over"
            f" {', '.join(map(str, CONCURRENCY_LEVELS))} (-n ~{POINT_S:g} s of requests each) until two"
            f" in a row passed p99 {P99_LIMIT_MS:g} ms; capacity = the highest throughput whose p99 stayed"
            " at or below it"
        ),
        "commands": commands,
    }
