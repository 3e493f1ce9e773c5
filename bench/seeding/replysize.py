"""The bytes a top-n read returns from the seeded data, worked out without a server.

A reply's size depends on the data: each entry is a decimal player id and an integer score, so a
million players' top 100 take about two bytes an entry more than a hundred thousand players' (one more
id digit, and the long tail's top scores have more digits). A plan that projects bytes per request to
another population scales them by the ratio of these sizes (analysis/figures/plan.py), so the
projection carries the data's growth instead of assuming none.

Sizes are RESP2's, as the harness's clients speak it: ``ZRANGE key 0 n-1 REV WITHSCORES`` answers
``*2n`` then, per entry, the member and the score as bulk strings; Redis writes an integral score
without a decimal point. Ties at the n-th place are broken by id here, by member bytes in Redis: a
tie that straddles the cut can change a reply by a digit or two, which the plan's 1% tolerance covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from bench.seeding.data import CHUNK_PLAYERS, chunk_scores
from bench.wire.keyslot import shards_of


@dataclass(frozen=True)
class ReplySizes:
    """RESP2 bytes of the seeded data's top-n replies."""

    shards_top_n: int  # each shard's top n, summed over the shards: one naive fan-out
    global_top_n: int  # the global top n: one read of the cache or of the global set


def _digits(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    return np.char.str_len(values.astype(str)).astype(np.int64)


def _reply_bytes(ids: npt.NDArray[np.int64], scores: npt.NDArray[np.int64]) -> int:
    """``*2n\\r\\n`` + per entry ``$len\\r\\nid\\r\\n$len\\r\\nscore\\r\\n``."""
    if not len(ids):
        return len("*0\r\n")
    lengths = np.concatenate([_digits(ids), _digits(scores)])
    bulk = 1 + _digits(lengths) + 2 + lengths + 2  # "$", the length's digits, CRLF, the data, CRLF
    return len(f"*{2 * len(ids)}\r\n") + int(bulk.sum())


def _top(
    ids: npt.NDArray[np.int64], scores: npt.NDArray[np.int64], n: int
) -> tuple[npt.NDArray[np.int64], ...]:
    if len(ids) <= n:
        return ids, scores
    order = np.lexsort((ids, scores))[-n:]
    return ids[order], scores[order]


@cache
def reply_sizes(players: int, shards: int, seed: int, n: int) -> ReplySizes:
    """The sizes of the replies a run of ``players`` seeded with ``seed`` on ``shards`` shards reads.

    Goes through the population a chunk at a time, keeping each shard's n best: about a second per
    ten million players.
    """
    best_ids = [np.zeros(0, dtype=np.int64) for _ in range(shards)]
    best_scores = [np.zeros(0, dtype=np.int64) for _ in range(shards)]
    for first in range(0, players, CHUNK_PLAYERS):
        count = min(CHUNK_PLAYERS, players - first)
        ids = np.arange(first, first + count, dtype=np.int64)
        scores = chunk_scores(seed, first, count)
        owner = shards_of(ids, shards)
        for shard in range(shards):
            mine_ids, mine_scores = ids[owner == shard], scores[owner == shard]
            if len(mine_scores) > n:  # a cheap cut before the exact sort: the n best by score
                keep = np.argpartition(mine_scores, -n)[-n:]
                mine_ids, mine_scores = mine_ids[keep], mine_scores[keep]
            merged_ids = np.concatenate([best_ids[shard], mine_ids])
            merged_scores = np.concatenate([best_scores[shard], mine_scores])
            best_ids[shard], best_scores[shard] = _top(merged_ids, merged_scores, n)
    total = sum(_reply_bytes(i, s) for i, s in zip(best_ids, best_scores, strict=True))
    all_ids, all_scores = _top(np.concatenate(best_ids), np.concatenate(best_scores), n)
    return ReplySizes(shards_top_n=total, global_top_n=_reply_bytes(all_ids, all_scores))
