"""Who the writer's score updates go to: the players at the top play the most.

With uniform writes (any player, +1..10,000) a 1M-player run almost never moves the global top 100,
whose scores sit 10^5-10^7 apart, so the cache would look fresh whatever its refresh interval.
The default model sends ``hot_write_share`` of the writes to the top 1000 players as they were when
the phase started, each adding up to ``HOT_DELTA_FRACTION`` of the player's current score: enough to
reorder neighbours in the top 100 and push players into and out of it, as active leaders do.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from bench.keys import Keys
from bench.strategies.shards import true_top
from bench.topology import Topology

HOT_PLAYERS = 1000
HOT_WRITE_SHARE = 0.5
HOT_DELTA_FRACTION = 0.02
UNIFORM_DELTA_MAX = 10_000


def hot_players(topology: Topology, keys: Keys, n: int = HOT_PLAYERS) -> list[tuple[int, float]]:
    """The true global top ``n`` as ``(player, score)``, read once before a phase's load starts."""
    return [(int(member), score) for score, member in true_top(topology, keys, n)]


class WriteModel:
    """Picks the next write's ``(player, delta)``; learns hot players' scores from the writes' replies."""

    def __init__(
        self,
        players: int,
        hot: Sequence[tuple[int, float]],
        hot_share: float,
        rng: random.Random,
    ) -> None:
        self.players = players
        self.hot_ids = [player for player, _ in hot]
        self.scores = dict(hot)
        self.hot_share = hot_share if self.hot_ids else 0.0
        self.rng = rng

    def next_write(self) -> tuple[int, int]:
        if self.rng.random() < self.hot_share:
            player = self.rng.choice(self.hot_ids)
            ceiling = max(1, round(self.scores[player] * HOT_DELTA_FRACTION))
            return player, self.rng.randint(1, ceiling)
        return self.rng.randrange(self.players), self.rng.randint(1, UNIFORM_DELTA_MAX)

    def observe(self, player: int, score: float) -> None:
        """The score a write returned; only hot players' are kept."""
        if player in self.scores:
            self.scores[player] = score
