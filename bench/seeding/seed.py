"""Loading the synthetic population into the shards: one ``RESTORE`` per shard where the server allows it.

Two steps. *Generating*: scores come from :func:`bench.data.chunk_scores` a million players at a
time on two threads, and each player joins its shard's set as one 8-byte order key
(:mod:`bench.seeding.shardsets`; 800 MB for 100M players). *Loading*: each set is sorted into
``ZRANGE ... REV`` order and sent as one ``RESTORE`` (:mod:`bench.seeding.rdb`), or as ``ZADD`` batches
where the server will not take that (:mod:`bench.seeding.loading`). Payloads go out one shard after another
without waiting, so the servers load in parallel while the client builds the next payload; then
every reply is collected.

Why not stream ``ZADD``s while generating: valkey 8.1 spent 2.5 µs of CPU per member so at 0.2M
members per server and 5.9 µs at 2M (random order); 3.1 µs at 10M in the best order. 100M players
would need 150-300 s of server CPU on two cores. ``RESTORE`` of 10M members took 0.6 µs per member.
"""

from __future__ import annotations

import signal
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bench.cache.formats import cache_node_keys
from bench.console import CountProgress
from bench.errors import UsageError
from bench.keys import Keys
from bench.seeding.data import CHUNK_PLAYERS, chunk_scores
from bench.seeding.loading import SetLoader
from bench.seeding.shardsets import MAX_PLAYERS, ShardSets, shard_pieces
from bench.threads import TEARDOWN_SIGNALS
from bench.topology import Endpoint, Topology
from bench.wire.keyslot import shards_of

GENERATING = "generated"
SENT = "sent"
STORED = "stored"
GENERATE_THREADS = 2  # the reference machine has two cores

# (step, players just done): GENERATING, then SENT (on the wire) and STORED (the server replied).
ProgressFn = Callable[[str, int], None]


@dataclass(frozen=True)
class ShardMemory:
    """``INFO memory`` summed over the shards."""

    used_memory_bytes: int
    rss_bytes: int


@dataclass(frozen=True)
class SeedResult:
    """What a seeding run did, and the shards' memory before and after."""

    players: int
    seconds: float
    generate_seconds: float
    per_shard: list[int]
    restored_sets: int  # sets loaded with one RESTORE; the rest went in as ZADDs
    memory_before: ShardMemory
    memory_after: ShardMemory

    @property
    def players_per_s(self) -> float:
        return self.players / self.seconds if self.seconds > 0 else 0.0

    @property
    def bytes_per_player(self) -> float:
        """Shard memory the players added (used_memory after minus before), per player."""
        return (self.memory_after.used_memory_bytes - self.memory_before.used_memory_bytes) / self.players


def harness_keys(topology: Topology, keys: Keys) -> list[tuple[Endpoint, tuple[str, ...]]]:
    """Every key the harness may write, per node: what clearing deletes and what it refuses to clobber."""
    keys = keys.on(topology)
    return [(e, (keys.shard_on(e),)) for e in topology.shards] + [(topology.cache, cache_node_keys(keys))]


def clear(topology: Topology, keys: Keys) -> None:
    """Delete the harness's own keys (and only those) on every node."""
    for endpoint, names in harness_keys(topology, keys):
        with closing(endpoint.client()) as client:
            client.delete(*names)


def existing_keys(topology: Topology, keys: Keys) -> list[str]:
    """``"<node>:<key>"`` for each harness key that already exists (to refuse clobbering user data)."""
    found = []
    for endpoint, names in harness_keys(topology, keys):
        with closing(endpoint.client()) as client:
            found += [f"{endpoint.name}:{name}" for name in names if client.exists(name)]
    return found


def shard_memory(shards: list[Endpoint]) -> ShardMemory:
    """``used_memory`` and ``used_memory_rss`` summed over ``shards``."""
    used = rss = 0
    for endpoint in shards:
        with closing(endpoint.client()) as client:
            info = client.info("memory")
        used += int(info["used_memory"])
        rss += int(info["used_memory_rss"])
    return ShardMemory(used_memory_bytes=used, rss_bytes=rss)


def _chunk_pieces(seed: int, shards: int, first_id: int, count: int) -> list[npt.NDArray[np.uint64]]:
    ids = np.arange(first_id, first_id + count, dtype=np.int64)
    return shard_pieces(ids, chunk_scores(seed, first_id, count), shards_of(ids, shards), shards)


def _block_teardown_signals() -> None:
    # Ctrl-C and kill must reach the main thread, which is waiting for a chunk (see bench.threads).
    signal.pthread_sigmask(signal.SIG_BLOCK, TEARDOWN_SIGNALS)


def generate(players: int, seed: int, shards: int, *, everyone: bool, progress: ProgressFn) -> ShardSets:
    """Every player's score, sorted into its shard's set (and the set of everyone if asked).

    Chunks are computed on GENERATE_THREADS threads (numpy releases the GIL): the servers have
    nothing to do until every chunk is in, so this step has the machine to itself.
    """
    sets = ShardSets(shards, everyone=everyone)
    pool = ThreadPoolExecutor(GENERATE_THREADS, "lbbench-generate", initializer=_block_teardown_signals)
    in_flight: deque[tuple[int, Future[list[npt.NDArray[np.uint64]]]]] = deque()
    try:
        for start in range(0, players, CHUNK_PLAYERS):
            count = min(CHUNK_PLAYERS, players - start)
            in_flight.append((count, pool.submit(_chunk_pieces, seed, shards, start, count)))
            # A short window bounds the memory in flight and keeps the chunks in id order.
            if len(in_flight) > 2 * GENERATE_THREADS:
                _take_chunk(in_flight, sets, progress)
        while in_flight:
            _take_chunk(in_flight, sets, progress)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return sets


def _take_chunk(
    in_flight: deque[tuple[int, Future[list[npt.NDArray[np.uint64]]]]], sets: ShardSets, progress: ProgressFn
) -> None:
    count, future = in_flight.popleft()
    sets.extend(future.result())
    progress(GENERATING, count)


def load_sets(sets: ShardSets, loaders: list[SetLoader], keys: list[bytes]) -> int:
    """Send every set to its node; returns how many went as one RESTORE (the rest as ZADDs).

    RESTOREs go first: their servers load while the client builds the next payload or sends ZADDs.
    """
    restored = 0
    for index in sorted(range(len(loaders)), key=lambda i: not loaders[i].uses_restore(sets.size(i))):
        members = sets.size(index)
        if members and loaders[index].uses_restore(members):
            restored += 1
        ids, scores = sets.take(index)
        loaders[index].send_set(keys[index], ids, scores)
        del ids, scores
    return restored


def seed(
    topology: Topology,
    keys: Keys,
    players: int,
    seed: int,
    progress: ProgressFn | None = None,
    *,
    global_set: bool = False,
) -> SeedResult:
    """Replace each shard's leaderboard with players ``0 .. players-1`` at their seeded scores.

    Args:
        global_set: also put every player into the cache node's single global sorted set (for
            strategies with ``needs_global_set``); SENT and STORED then count each player twice.
    """
    if not 1 <= players <= MAX_PLAYERS:
        raise UsageError(f"--players must be between 1 and {MAX_PLAYERS:,}, got {players:,}")
    report: ProgressFn = progress or (lambda _step, _n: None)
    started = time.perf_counter()
    clear(topology, keys)
    memory_before = shard_memory(topology.shards)
    keys = keys.on(topology)
    nodes = [(e, keys.shard_on(e).encode()) for e in topology.shards]
    if global_set:
        nodes.append((topology.cache, keys.global_set.encode()))
    loaders: list[SetLoader] = []
    try:
        for endpoint, key in nodes:
            loaders.append(SetLoader(endpoint, lambda n: report(SENT, n), lambda n: report(STORED, n)))
            loaders[-1].probe_restore(key)
        generate_started = time.perf_counter()
        sets = generate(players, seed, len(topology.shards), everyone=global_set, progress=report)
        generate_seconds = time.perf_counter() - generate_started
        per_shard = [sets.size(i) for i in range(len(topology.shards))]
        restored = load_sets(sets, loaders, [key for _, key in nodes])
        for loader in loaders:
            loader.collect()
    finally:
        for loader in loaders:
            loader.close()
    seconds = time.perf_counter() - started
    return SeedResult(
        players=players,
        seconds=seconds,
        generate_seconds=generate_seconds,
        per_shard=per_shard,
        restored_sets=restored,
        memory_before=memory_before,
        memory_after=shard_memory(topology.shards),
    )


def seed_with_progress(
    topology: Topology, keys: Keys, players: int, seed_value: int, *, global_set: bool = False
) -> SeedResult:
    """:func:`seed` with progress on stderr: bars on a terminal, a line every 15 s elsewhere."""
    loaded = players * (2 if global_set else 1)
    totals = {GENERATING: players, SENT: loaded, STORED: loaded}
    with CountProgress("seeding", totals, "players") as bar:
        return seed(topology, keys, players, seed_value, bar.advance, global_set=global_set)
