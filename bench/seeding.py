"""Loading the synthetic population into the shards with large pipelined ZADDs."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bench.console import progress_bar
from bench.counting import CountingConnection
from bench.data import score_chunks
from bench.errors import UsageError
from bench.keys import Keys
from bench.keyslot import shards_of
from bench.topology import Topology

ZADD_BATCH = 10_000  # members per ZADD: large enough to amortise a round trip, small enough not to stall
PIPELINE_DEPTH = 8  # ZADDs in flight per shard before we read replies

ProgressFn = Callable[[int], None]


@dataclass(frozen=True)
class SeedResult:
    """What a seeding run did."""

    players: int
    seconds: float
    per_shard: list[int]

    @property
    def players_per_s(self) -> float:
        return self.players / self.seconds if self.seconds > 0 else 0.0


def encode_zadd(key: bytes, scores: npt.NDArray[np.int64], members: npt.NDArray[np.int64]) -> bytes:
    """RESP bytes of ``ZADD key score member ...`` (built directly: redis-py's packer is ~3x slower)."""
    score_b = scores.astype("S20").tolist()
    member_b = members.astype("S20").tolist()
    head = b"*%d\r\n$4\r\nZADD\r\n$%d\r\n%b\r\n" % (2 + 2 * len(member_b), len(key), key)
    body = b"".join(
        [
            b"$%d\r\n%b\r\n$%d\r\n%b\r\n" % (len(s), s, len(m), m)
            for s, m in zip(score_b, member_b, strict=True)
        ]
    )
    return head + body


class _ShardWriter:
    """Pipelined ZADDs to one shard: sends up to PIPELINE_DEPTH before waiting for replies."""

    def __init__(self, conn: CountingConnection) -> None:
        self.conn = conn
        self.pending = 0

    def send(self, packet: bytes) -> None:
        self.conn.send_packed_command([packet])
        self.pending += 1
        if self.pending >= PIPELINE_DEPTH:
            self.drain(keep=PIPELINE_DEPTH // 2)

    def send_zadds(
        self,
        key: bytes,
        scores: npt.NDArray[np.int64],
        ids: npt.NDArray[np.int64],
        progress: ProgressFn | None,
    ) -> None:
        """ZADD these players in batches of ZADD_BATCH."""
        for start in range(0, len(ids), ZADD_BATCH):
            end = start + ZADD_BATCH
            self.send(encode_zadd(key, scores[start:end], ids[start:end]))
            if progress is not None:
                progress(len(ids[start:end]))

    def drain(self, keep: int = 0) -> None:
        while self.pending > keep:
            reply = self.conn.read_response()
            if isinstance(reply, Exception):
                raise reply
            self.pending -= 1


def clear(topology: Topology, keys: Keys) -> None:
    """Delete the harness's own keys (and only those) on every node."""
    for endpoint in topology.shards:
        client = endpoint.client()
        client.delete(keys.shard)
        client.close()
    client = topology.cache.client()
    client.delete(*keys.cache_node_keys)
    client.close()


def existing_keys(topology: Topology, keys: Keys) -> list[str]:
    """``"<node>:<key>"`` for each harness key that already exists (to refuse clobbering user data)."""
    found = []
    for endpoint in topology.shards:
        client = endpoint.client()
        if client.exists(keys.shard):
            found.append(f"{endpoint.name}:{keys.shard}")
        client.close()
    client = topology.cache.client()
    found += [f"cache:{k}" for k in keys.cache_node_keys if client.exists(k)]
    client.close()
    return found


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
            strategies with ``needs_global_set``); progress then counts each player twice.
    """
    if players < 1:
        raise UsageError(f"--players must be at least 1, got {players}")
    started = time.perf_counter()
    clear(topology, keys)
    writers = [_ShardWriter(e.connection()) for e in topology.shards]
    per_shard = [0] * len(writers)
    key = keys.shard.encode()
    global_writer = _ShardWriter(topology.cache.connection()) if global_set else None
    global_key = keys.global_set.encode()
    all_writers = writers + ([global_writer] if global_writer is not None else [])
    try:
        for first_id, scores in score_chunks(players, seed):
            ids = np.arange(first_id, first_id + len(scores), dtype=np.int64)
            owner = shards_of(ids, len(writers))
            order = np.argsort(owner, kind="stable")
            bounds = np.searchsorted(owner[order], np.arange(len(writers) + 1))
            for shard, writer in enumerate(writers):
                chunk = order[bounds[shard] : bounds[shard + 1]]
                writer.send_zadds(key, scores[chunk], ids[chunk], progress)
                per_shard[shard] += len(chunk)
            if global_writer is not None:
                global_writer.send_zadds(global_key, scores, ids, progress)
        for writer in all_writers:
            writer.drain()
    finally:
        for writer in all_writers:
            writer.conn.disconnect()
    return SeedResult(players=players, seconds=time.perf_counter() - started, per_shard=per_shard)


def seed_with_progress(
    topology: Topology, keys: Keys, players: int, seed_value: int, *, global_set: bool = False
) -> SeedResult:
    """:func:`seed` with a progress bar on stderr."""
    with progress_bar() as bar:
        task = bar.add_task("seeding", total=players * (2 if global_set else 1))
        return seed(
            topology, keys, players, seed_value, lambda n: bar.advance(task, n), global_set=global_set
        )
