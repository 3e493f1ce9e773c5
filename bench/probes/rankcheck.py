"""After a strategy's load phase: how exact its ``rank(player)`` is, and what one query costs.

Sample (deterministic for a given ``--players`` and ``--seed``): ``UNIFORM_PLAYERS`` ids drawn
uniformly without replacement (the typical player, deep in the long tail), plus the players at
``TOP_PLAYERS`` log-spaced ranks from 1 to ``TOP_POOL`` of the current global top (about half of
them inside the cached top 1000, the rest just below it), duplicates dropped.

For each sampled player the strategy's ``rank`` is timed (``perf_counter``) and compared with the
exact rank read from the shards at the same moment (``ZSCORE`` + ``ZCOUNT`` on every shard, on
connections of its own). The load and the refresher have stopped, so the two see the same data;
an approximate strategy's answer still reflects its last refresh, as it would in production.
The first query is a warm-up, not measured: it opens connections and, for ``regional``, fetches the
histogram that a client keeps until the next refresh. The record becomes ``raw/<strategy>/rank.json``;
analysis/figures/rank.py summarises them.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from bench.keys import Keys
from bench.strategies import get_strategy
from bench.strategies.shards import ShardAccess, true_top
from bench.topology import Topology
from bench.wire.counting import ByteCounter

UNIFORM_PLAYERS = 900
TOP_PLAYERS = 100
TOP_POOL = 10_000
SAMPLE_SEED_SALT = 0x52414E4B  # keeps the sample independent of the writer's and the scores' streams


def top_players(topology: Topology, keys: Keys, n: int) -> list[int]:
    """The ids of the current global top n, best first."""
    return [int(member) for _, member in true_top(topology, keys, n)]


def sample_players(players: int, seed: int, top: list[int]) -> list[int]:
    """Uniform ids, then the players at log-spaced ranks of ``top``; each id once, in that order."""
    rng = np.random.Generator(np.random.PCG64(seed ^ SAMPLE_SEED_SALT))
    uniform = rng.choice(players, size=min(UNIFORM_PLAYERS, players), replace=False).tolist()
    if top:
        ranks = np.unique(np.rint(np.geomspace(1, len(top), TOP_PLAYERS)).astype(int))
        uniform += [top[r - 1] for r in ranks.tolist()]
    return list(dict.fromkeys(int(p) for p in uniform))


def rank_check(topology: Topology, keys: Keys, name: str, players: int, seed: int) -> dict[str, Any]:
    """Time ``name``'s rank() on the sampled players next to the exact rank; the raw record."""
    sample = sample_players(players, seed, top_players(topology, keys, min(TOP_POOL, players)))
    counter = ByteCounter()
    strategy = get_strategy(name)(topology, keys, counter)
    exact_access = ShardAccess(topology, keys, ByteCounter())
    got: list[int | None] = []
    exact: list[int | None] = []
    query_us: list[float] = []
    try:
        strategy.rank(sample[0])  # warm-up: connections, a client-side histogram
        before = (counter.commands, counter.bytes_sent, counter.bytes_received)
        for player in sample:
            started = time.perf_counter()
            got.append(strategy.rank(player))
            query_us.append((time.perf_counter() - started) * 1e6)
        after = (counter.commands, counter.bytes_sent, counter.bytes_received)
        for player in sample:
            score = exact_access.score(player)
            exact.append(None if score is None else 1 + exact_access.count_above(score))
    finally:
        strategy.close()
        exact_access.close()
    return {
        "strategy": name,
        "rank_is_exact": get_strategy(name).rank_is_exact,
        "sample": {"uniform": min(UNIFORM_PLAYERS, players), "top_ranks": TOP_PLAYERS, "top_pool": TOP_POOL},
        "queries": len(sample),
        "commands": after[0] - before[0],
        "bytes_sent": after[1] - before[1],
        "bytes_received": after[2] - before[2],
        "players": sample,
        "exact_rank": exact,
        "rank": got,
        "query_us": [round(us, 2) for us in query_us],
    }
