"""The synthetic player population: deterministic, long-tailed scores, decimal player ids.

Scores follow a Lomax (Pareto II) law, as game scores do: most players sit near zero and a few
are far ahead. ``score = floor(SCORE_SCALE * ((1 - u) ** (-1 / PARETO_ALPHA) - 1))`` for
``u ~ U[0, 1)`` drawn from NumPy's PCG64 seeded with ``--seed``, in chunks of ``CHUNK_PLAYERS``
ids, so the same ``(players, seed)`` always gives the same scores. Scores are integers, so ties
happen; see :mod:`bench.wire.merge` for how they are ordered.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

PARETO_ALPHA = 1.2
SCORE_SCALE = 1000.0
SCORE_MAX = 1_000_000_000  # keeps every score exactly representable as a Redis double
CHUNK_PLAYERS = 1_000_000


def lomax_scores(uniform: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    raw = SCORE_SCALE * (np.power(1.0 - uniform, -1.0 / PARETO_ALPHA) - 1.0)
    return np.minimum(np.floor(raw), SCORE_MAX).astype(np.int64)


def chunk_scores(seed: int, first_id: int, count: int) -> npt.NDArray[np.int64]:
    """Scores of players ``first_id .. first_id+count-1``: the same numbers as drawing every id in order.

    Each uniform is one 64-bit PCG64 draw, so jumping the generator ``first_id`` draws ahead makes
    a chunk independent of the others: seeding computes chunks on several threads.
    """
    rng = np.random.Generator(np.random.PCG64(seed).advance(first_id))
    return lomax_scores(rng.random(count))
