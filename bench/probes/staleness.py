"""How far a cached view is from the truth: sampled once a second while a cached strategy is loaded.

Each sample scatter-gathers the true global top ``n`` from the shards and reads the strategy's own
view through ``top(CACHE_TOP_N)`` (so it works for every cache format), then records:

- ``cache_age_s``: now minus the last full refresh's start (``refreshed_at_s`` in the meta hash);
- ``entries_differ``: members of the true top n missing from the view's top n;
- ``missing_from_cache``: members of the true top n missing from the whole cached list;
- ``max_rank_displacement``: largest |view rank - true rank| over members present in both;
- ``max_score_error``: largest |view score - true score| over the same members.

The probe's commands and bytes are counted per node and subtracted from the workload figures, as
the refresher's are (see :mod:`bench.probes.telemetry`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from bench.cache.formats import CACHE_TOP_N
from bench.keys import Keys
from bench.strategies import get_strategy
from bench.topology import Topology
from bench.wire.counting import ByteCounter, CountingConnection
from bench.wire.merge import Row, merge_top
from bench.wire.scatter import Scatter, zrange_rev


def compare_views(truth: Sequence[Row], view: Sequence[Row], n: int) -> dict[str, float]:
    """Differences between the true top ``n`` and a (longer) cached view, both best first."""
    true_top = list(truth[:n])
    view_rank = {member: (rank, score) for rank, (member, score) in enumerate(view, start=1)}
    view_top = {member for member, _ in view[:n]}
    displacement = 0
    score_error = 0.0
    missing = 0
    for true_rank, (member, score) in enumerate(true_top, start=1):
        found = view_rank.get(member)
        if found is None:
            missing += 1
            continue
        displacement = max(displacement, abs(found[0] - true_rank))
        score_error = max(score_error, abs(found[1] - score))
    return {
        "entries_differ": sum(1 for member, _ in true_top if member not in view_top),
        "missing_from_cache": missing,
        "max_rank_displacement": displacement,
        "max_score_error": score_error,
    }


class StalenessProbe:
    """Owns counted connections of its own; ``sample()`` appends one row to ``rows``."""

    def __init__(self, topology: Topology, keys: Keys, strategy: str, top_n: int) -> None:
        self.top_n = top_n
        self.keys = keys.on(topology)
        self.counters = {e.name: ByteCounter() for e in topology.nodes}
        self._scatter = Scatter(
            [e.connection(self.counters[e.name]) for e in topology.shards],
        )
        self._shard_names = [e.name for e in topology.shards]
        self._packed = self._scatter.pack_each(
            self.keys.shards_on(topology), lambda key: zrange_rev(key, top_n)
        )
        self._cache_name = topology.cache.name
        cache_counter = self.counters[self._cache_name]
        self._meta: CountingConnection = topology.cache.connection(cache_counter)
        # The strategy reads only the cache node in top(): its traffic is the cache node's.
        self._view = get_strategy(strategy)(topology, keys, cache_counter)
        self.rows: list[dict[str, Any]] = []

    def sample(self) -> None:
        t_s = time.time()
        try:
            replies = self._scatter.gather_each(self._packed)
            for name in self._shard_names:
                self.counters[name].commands += 1
            truth = [(member, score) for score, member in merge_top(replies, self.top_n)]
            view = self._view.top(CACHE_TOP_N).rows()
            refreshed_at_s = self._refreshed_at_s()
        except Exception as exc:
            self.rows.append({"t_s": t_s, "error": f"{type(exc).__name__}: {exc}"})
            return
        age_s = None if refreshed_at_s is None else max(0.0, t_s - refreshed_at_s)
        self.rows.append(
            {"t_s": t_s, "cache_age_s": age_s, **compare_views(truth, view, self.top_n), "error": ""}
        )

    def _refreshed_at_s(self) -> float | None:
        try:
            self._meta.send_command("HGET", self.keys.cache_meta, "refreshed_at_s", check_health=False)
            self.counters[self._cache_name].commands += 1
            reply = self._meta.read_response()
        except BaseException:
            self._meta.disconnect()
            raise
        return None if reply is None else float(reply)

    def close(self) -> None:
        self._scatter.disconnect()
        self._meta.disconnect()
        self._view.close()
