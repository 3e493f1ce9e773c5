"""The seed's naive path: every request fans out to all shards in parallel and merges."""

from __future__ import annotations

from time import perf_counter_ns

from bench.strategies.base import Strategy
from bench.wire.merge import Ranking, merge_top
from bench.wire.scatter import Scatter, zrange_rev


class NaiveStrategy(Strategy):
    """N shard queries per request (``ZRANGE <shard key> 0 n-1 REV WITHSCORES``), merged client-side.

    The shards' commands are packed once per n; all shard keys the same (no cluster), one for all.
    With ``--naive-on-shard-error partial`` a request some shards fail answers with the merged top of
    the others, its Ranking's ``missing`` counting the shards it lacks.
    """

    name = "naive"

    def _open(self) -> None:
        self._scatter = Scatter([e.connection(self.counter) for e in self.topology.shards], self.counter)
        # Chosen once: the fail policy's hot path is gather_each as before, not a branch per request.
        # Under it ``missing`` stays 0.
        self._gather = (
            self._scatter.gather_available if self.policy.naive_partial else self._scatter.gather_each
        )
        self._shard_keys = self.keys.shards_on(self.topology)
        self._packed: dict[int, list[list[bytes]]] = {}

    def top(self, n: int) -> Ranking:
        packed = self._packed.get(n)
        if packed is None:
            packed = self._packed[n] = self._scatter.pack_each(
                self._shard_keys, lambda key: zrange_rev(key, n)
            )
        self._until_sample -= 1
        if not self._until_sample:
            return self._sampled_top(packed, n)
        return Ranking(scored=merge_top(self._gather(packed), n), missing=self._scatter.missing)

    def _sampled_top(self, packed: list[list[bytes]], n: int) -> Ranking:
        """``top`` with each shard's send and reply instants and the merge timed (one read in many)."""
        assert self.reply_times is not None
        self._until_sample = self.reply_times.sample_every
        clock = [0] * (1 + 2 * len(self._scatter.connections))
        ranking = Ranking(scored=merge_top(self._gather(packed, clock), n), missing=self._scatter.missing)
        if not ranking.missing:  # a partial answer's missing shards have no reply time
            self.reply_times.add_scatter(clock, perf_counter_ns())
        return ranking

    def close(self) -> None:
        self._scatter.disconnect()
        super().close()
