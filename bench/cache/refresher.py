"""The seed's background job: scatter-gather the global top 1000 into one cache key, every T seconds.

What one refresh writes depends on the strategy under test (``CacheLayout``): the seed's sorted
set, the ``blob`` strategy's fixed-width records, and, for strategies that rank players from the
cache, a score histogram (bench/rankhist.py). All of it lands in one MULTI/EXEC.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from dataclasses import asdict, dataclass, fields
from typing import Any

from bench.cache.rankhist import RankHistogram, boundaries, gather_counts, lowest_score
from bench.errors import UsageError
from bench.keys import Keys
from bench.threads import background_thread
from bench.topology.base import Topology
from bench.wire.counting import ByteCounter, CountingConnection
from bench.wire.merge import merge_top, pack_blob
from bench.wire.scatter import Scatter, zrange_rev_withscores

CACHE_TOP_N = 1000  # the seed caches the global top 1000
REFRESH_INTERVAL_S = 60.0  # the seed's refresh period
# MULTI, ZADD tmp, RENAME tmp cache, HSET meta, EXEC: what one refresh sends to the cache node.
CACHE_COMMANDS_PER_REFRESH = 5
# MULTI, SET blob, HSET meta, EXEC: SET replaces the string atomically, so no staging key.
BLOB_CACHE_COMMANDS_PER_REFRESH = 4
# The rank histogram adds one SET on the cache node; on each shard, ZRANGE 0 0 WITHSCORES next to
# the top-1000 read (the lowest score), then one ZCOUNT per boundary.


@dataclass(frozen=True)
class CacheLayout:
    """Which cache keys a refresh writes: only what the strategy under test reads."""

    zset: bool = True
    blob: bool = False
    rank_histogram: bool = False

    @property
    def cache_commands(self) -> int:
        """Commands one refresh sends to the cache node."""
        return 3 + 2 * self.zset + self.blob + self.rank_histogram


# `lbbench up` serves any strategy, so it keeps every format fresh.
EVERY_FORMAT = CacheLayout(zset=True, blob=True, rank_histogram=True)


@dataclass(frozen=True)
class RefreshRecord:
    """One refresh, for the run's raw data."""

    t_start_s: float  # wall clock (epoch seconds) when the scatter began
    duration_s: float
    entries: int
    commands: int
    bytes_sent: int  # by the refresher, to all nodes (= Redis's bytes in)
    bytes_received: int  # from all nodes (= Redis's bytes out)
    ok: bool
    error: str = ""


# refreshes.csv columns: one per RefreshRecord field, so the file always matches the record.
REFRESH_COLUMNS = [f.name for f in fields(RefreshRecord)]


class CacheRefresher:
    """Owns counted connections to every node and rebuilds the cache key on demand."""

    def __init__(
        self, topology: Topology, keys: Keys, layout: CacheLayout | None = None, top_n: int = CACHE_TOP_N
    ) -> None:
        self.keys = keys
        self.layout = layout or CacheLayout()
        if not (self.layout.zset or self.layout.blob):
            raise UsageError("a cache refresh must write the sorted set, the blob or both")
        self.top_n = top_n
        self.counters = {e.name: ByteCounter() for e in topology.nodes}
        self._scatter = Scatter([e.connection(self.counters[e.name]) for e in topology.shards])
        self._cache: CountingConnection = topology.cache.connection(self.counters[topology.cache.name])
        self._shard_names = [e.name for e in topology.shards]
        self._cache_name = topology.cache.name
        self._packed = zrange_rev_withscores(self._cache, keys.shard, top_n)
        # With the histogram, the shards' lowest scores come back in the top-1000 read's round trip.
        self._packed_with_lowest = self._cache.pack_commands(
            [
                ("ZRANGE", keys.shard, 0, top_n - 1, "REV", "WITHSCORES"),
                ("ZRANGE", keys.shard, 0, 0, "WITHSCORES"),
            ]
        )

    def refresh(self) -> RefreshRecord:
        """Rebuild the cache once; readers see the old or the new top list, never a partial or missing one."""
        before = self._totals()
        t_start_s = time.time()
        started = time.perf_counter()
        histogram = None
        if self.layout.rank_histogram:
            replies = self._scatter.gather_many(self._packed_with_lowest, 2)
            self._count_shard_commands(2)
            rows = merge_top((top for top, _ in replies), self.top_n)
            if rows:
                histogram = self._histogram(rows, lowest_score([low for _, low in replies]), t_start_s)
        else:
            rows = merge_top(self._scatter.gather(self._packed), self.top_n)
            self._count_shard_commands(1)
        if not rows:
            raise UsageError("the shards hold no players: run `lbbench seed` first")
        self._write(rows, t_start_s, started, histogram)
        duration_s = time.perf_counter() - started
        after = self._totals()
        return RefreshRecord(
            t_start_s=t_start_s,
            duration_s=duration_s,
            entries=len(rows),
            commands=after[0] - before[0],
            bytes_sent=after[1] - before[1],
            bytes_received=after[2] - before[2],
            ok=True,
        )

    def _count_shard_commands(self, per_shard: int) -> None:
        for name in self._shard_names:
            self.counters[name].commands += per_shard

    def _histogram(self, rows: list[tuple[float, bytes]], lo: float, t_start_s: float) -> RankHistogram:
        """Players above each log-spaced boundary between the lowest and the cached last score."""
        bounds = boundaries(lo, rows[-1][0])
        counts = gather_counts(self._scatter, self.keys.shard, bounds)
        self._count_shard_commands(len(bounds))
        return RankHistogram(t_start_s, len(rows), bounds, counts)

    def _write(
        self,
        rows: list[tuple[float, bytes]],
        t_start_s: float,
        started: float,
        histogram: RankHistogram | None,
    ) -> None:
        commands: list[tuple[Any, ...]] = [("MULTI",)]
        if self.layout.zset:
            # Staging under a unique name, then RENAME inside MULTI: RENAME replaces the key atomically,
            # and a crash cannot leave a staging key behind because nothing runs before EXEC.
            tmp = self.keys.cache_tmp(uuid.uuid4().hex)
            zadd: list[Any] = ["ZADD", tmp]
            for score, member in rows:
                zadd += [score, member]
            commands += [tuple(zadd), ("RENAME", tmp, self.keys.cache)]
        if self.layout.blob:
            commands.append(("SET", self.keys.cache_blob, pack_blob(rows)))
        meta = [
            "HSET",
            self.keys.cache_meta,
            "refreshed_at_s",
            repr(t_start_s),
            "scatter_gather_s",
            repr(time.perf_counter() - started),
            "entries",
            len(rows),
        ]
        commands.append(tuple(meta))
        if histogram is not None:
            commands.append(("SET", self.keys.cache_hist, histogram.to_bytes()))
        commands.append(("EXEC",))
        conn = self._cache
        try:
            conn.send_packed_command(conn.pack_commands(commands), check_health=False)
            replies = [conn.read_response() for _ in commands]
        except BaseException:
            conn.disconnect()
            raise
        finally:
            self.counters[self._cache_name].commands += len(commands)
        failed = [r for r in replies[-1] or [] if isinstance(r, Exception)]
        if failed:
            raise failed[0]

    def _totals(self) -> tuple[int, int, int]:
        counters = self.counters.values()
        return (
            sum(c.commands for c in counters),
            sum(c.bytes_sent for c in counters),
            sum(c.bytes_received for c in counters),
        )

    def close(self) -> None:
        self._scatter.disconnect()
        self._cache.disconnect()


class RefresherThread:
    """Runs ``refresher.refresh()`` every ``interval_s`` seconds in the background until stopped."""

    def __init__(self, refresher: CacheRefresher, interval_s: float) -> None:
        if interval_s <= 0:
            raise UsageError(f"--refresh-interval must be positive, got {interval_s}")
        self.refresher = refresher
        self.interval_s = interval_s
        self.records: list[RefreshRecord] = []
        self._stop = threading.Event()
        self._thread = background_thread(self._run, "cache-refresher")

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        next_at = time.perf_counter() + self.interval_s
        while not self._stop.wait(max(0.0, next_at - time.perf_counter())):
            try:
                self.records.append(self.refresher.refresh())
            except Exception as exc:
                self.records.append(RefreshRecord(time.time(), 0.0, 0, 0, 0, 0, ok=False, error=str(exc)))
            # A refresh slower than the interval skips the ticks it overran instead of piling up.
            now = time.perf_counter()
            while next_at <= now:
                next_at += self.interval_s

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(RuntimeError):
            self._thread.join()

    def rows(self) -> list[dict[str, Any]]:
        return [asdict(r) for r in self.records]
