"""The seed's background job: scatter-gather the global top 1000 into one cache key, every T seconds.

What one refresh writes depends on the strategy under test: its cache formats (bench/cache/formats/),
the seed's sorted set, the blob, and for strategies that rank players from the cache a score
histogram. All of it lands in one MULTI/EXEC with the meta hash.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench.cache.formats import CACHE_TOP_N, SORTED_SET, CacheFormat, Snapshot
from bench.cache.formats.base import ShardCommands
from bench.errors import RunError
from bench.keys import Keys
from bench.threads import OVERLAP_WAIT_S, LoopThread, held_briefly
from bench.topology import Topology
from bench.wire.counting import ByteCounter, CountingConnection
from bench.wire.merge import merge_top
from bench.wire.scatter import Scatter, zrange_rev

REFRESH_INTERVAL_S = 60.0  # the seed's refresh period


@dataclass(frozen=True)
class RefreshRecord:
    """One refresh, a row of refreshes.csv (runfiles/records.py REFRESH_COLUMNS)."""

    t_start_s: float  # wall clock (epoch seconds) when the scatter began
    duration_s: float
    entries: int
    commands: int
    bytes_sent: int  # by the refresher, to all nodes (= Redis's bytes in)
    bytes_received: int  # from all nodes (= Redis's bytes out)
    ok: bool
    error: str = ""
    # Shards that did not answer; above 0 on an ok row, the refresh published the top of the others
    # (--refresher-on-shard-error partial).
    shards_missing: int = 0


class CacheRefresher:
    """Owns counted connections to every node and rebuilds the cache keys on demand.

    A shard failing during a refresh fails the refresh, and the old cache stays (staleness grows);
    with ``partial`` the refresh publishes the top of the shards that answered instead.
    """

    def __init__(
        self,
        topology: Topology,
        keys: Keys,
        formats: Sequence[CacheFormat] = (SORTED_SET,),
        top_n: int = CACHE_TOP_N,
        *,
        partial: bool = False,
    ) -> None:
        self.keys = keys.on(topology)  # the cache's names as this topology tags them (bench/keys.py)
        self.formats = tuple(formats)
        if not any(f.serves_top for f in self.formats):
            raise ValueError(f"a cache refresh must write a top list, not only {self.formats}")
        self.top_n = top_n
        self.partial = partial
        self._missing = 0  # shards the refresh under way lacks
        self.counters = {e.name: ByteCounter() for e in topology.nodes}
        self._scatter = Scatter([e.connection(self.counters[e.name]) for e in topology.shards])
        self._cache: CountingConnection = topology.cache.connection(self.counters[topology.cache.name])
        self._shard_names = [e.name for e in topology.shards]
        self._cache_name = topology.cache.name
        self._shard_keys = self.keys.shards_on(topology)
        # Each shard's top list, then what the formats read next to it, in one round trip; packed
        # once per distinct shard key (once for all outside a cluster).
        self._extra_reads = [(f.name, len(f.shard_reads(self._shard_keys[0]))) for f in self.formats]
        self._reads = 1 + sum(count for _, count in self._extra_reads)
        self._packed_reads = self._scatter.pack_pipeline_each(self._shard_keys, self._shard_reads)

    def _shard_reads(self, shard_key: str) -> list[tuple[Any, ...]]:
        reads = [zrange_rev(shard_key, self.top_n)]
        return reads + [command for f in self.formats for command in f.shard_reads(shard_key)]

    def refresh(self) -> RefreshRecord:
        """Rebuild the cache once; readers see the old or the new top list, never a partial or missing one."""
        before = self._totals()
        t_start_s = time.time()
        started = time.perf_counter()
        self._missing = 0
        replies = self._gather_shards(self._packed_reads, self._reads)
        rows = merge_top((shard[0] for shard in replies), self.top_n)
        if not rows:
            raise RunError("the shards hold no players: run `lbbench seed` first")
        snapshot = Snapshot(rows, t_start_s, gather=self._gather, extra=self._split_extra(replies))
        commands: list[tuple[Any, ...]] = [("MULTI",)]
        for cache_format in self.formats:
            commands += cache_format.refresh_commands(self.keys, snapshot)
        commands += [self._meta(len(rows), t_start_s, started), ("EXEC",)]
        self._write(commands)
        after = self._totals()
        return RefreshRecord(
            t_start_s=t_start_s,
            duration_s=time.perf_counter() - started,
            entries=len(rows),
            commands=after[0] - before[0],
            bytes_sent=after[1] - before[1],
            bytes_received=after[2] - before[2],
            ok=True,
            shards_missing=self._missing,
        )

    def _gather_shards(self, packed: list[list[bytes]], per_shard: int) -> list[list[Any]]:
        """Every shard's replies, or under ``partial`` those of the shards that answered; counted."""
        scatter = self._scatter
        if not self.partial:
            replies = scatter.gather_many_each(packed, per_shard)
            self._count_shard_commands(per_shard)
            return replies
        replies = scatter.gather_many_available(packed, per_shard)
        self._count_shard_commands(per_shard, skip=scatter.failed)
        self._missing = max(self._missing, scatter.missing)
        return replies

    def _split_extra(self, replies: list[list[Any]]) -> dict[str, list[list[Any]]]:
        """Each format's share of the shard replies after the top list."""
        extra: dict[str, list[list[Any]]] = {}
        offset = 1
        for name, count in self._extra_reads:
            extra[name] = [shard[offset : offset + count] for shard in replies]
            offset += count
        return extra

    def _gather(self, commands: ShardCommands) -> list[list[Any]]:
        """One more round trip to every shard, each sent ``commands(its key)``, counted as the refresher's."""
        built = {key: commands(key) for key in self._shard_keys}
        count = len(built[self._shard_keys[0]])
        return self._gather_shards(
            self._scatter.pack_pipeline_each(self._shard_keys, built.__getitem__), count
        )

    def _meta(self, entries: int, t_start_s: float, started: float) -> tuple[Any, ...]:
        return (
            "HSET",
            self.keys.cache_meta,
            "refreshed_at_s",
            repr(t_start_s),
            "scatter_gather_s",
            repr(time.perf_counter() - started),
            "entries",
            entries,
        )

    def _count_shard_commands(self, per_shard: int, skip: int = 0) -> None:
        """Count ``per_shard`` commands on each shard but those whose bit is set in ``skip``."""
        for i, name in enumerate(self._shard_names):
            if not skip >> i & 1:
                self.counters[name].commands += per_shard

    def _write(self, commands: list[tuple[Any, ...]]) -> None:
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
            raise ValueError(f"refresh interval must be positive, got {interval_s}")
        self.refresher = refresher
        self.interval_s = interval_s
        self.records: list[RefreshRecord] = []
        # Held through each refresh; the telemetry sampler takes it too (bench/probes/telemetry.py).
        self.busy = threading.Lock()
        self._loop = LoopThread(self._run, "cache-refresher")

    def start(self) -> None:
        self._loop.start()

    def _run(self) -> None:
        # A refresh slower than the interval skips the ticks it overran instead of piling up.
        for _ in self._loop.ticks(self.interval_s, skip_overrun=True):
            try:
                with held_briefly(self.busy, OVERLAP_WAIT_S):
                    self.records.append(self.refresher.refresh())
            except Exception as exc:
                self.records.append(RefreshRecord(time.time(), 0.0, 0, 0, 0, 0, ok=False, error=str(exc)))

    def stop(self) -> None:
        self._loop.stop()

    def rows(self) -> list[dict[str, Any]]:
        return [asdict(r) for r in self.records]
