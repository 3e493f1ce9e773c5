"""The runs a plan measures: short compares scaled down from the target tier to fit this machine.

A plan needs, of every strategy, its CPU per second at two rates (a fixed part and a part per request
separate only across rates) and, of naive, at two shard counts as well (its client's cost per shard).
So three compares, each a normal run directory:

1. every strategy at ``min(target shards, MAX_SHARDS)`` shards and ``HIGH_RPS``, with the capacity
   probe (what one node serves of each read at p99 <= 1 ms);
2. every strategy at the same shards and ``LOW_RPS``;
3. naive alone at about half those shards and ``HIGH_RPS``.

Players are the target's up to ``MAX_PLAYERS`` (per-request costs do not grow with players; RAM per
player is measured either way). Writes come one per ``READ_WRITE_RATIO`` reads whatever the target's
ratio, so that the staleness probe sees some top-n entries change in a short phase; the plan scales
that figure to the target's write rate. The rates suit a 2-core machine: naive's fan-out to 10 shards
costs this Python client about a millisecond of CPU per request. Both are above the rates at which an
idle machine's wake-ups add to every request (measured here: cached's client CPU per request fell from
490 µs at 150 req/s to 294 at 300, then only to 245 at 1,500), so the fit sees the busy regime a
tier runs in.

Validation (``lbbench plan --validate``) fits on small runs and measures held-out points the fit did
not see (docs/planning.md); its points are declared here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bench.run.options import CompareOptions

MAX_SHARDS = 10
MAX_PLAYERS = 200_000
HIGH_RPS = 500.0
LOW_RPS = 250.0
DURATION_S = 10.0
READ_WRITE_RATIO = 50
SAMPLE_EVERY = 5  # enough sampled fan-outs for the Monte Carlo's p99 in a 10 s phase
CAPACITY_S = 10.0


@dataclass(frozen=True)
class Scaled:
    """One compare of a plan's measurement or validation."""

    label: str  # its directory's name
    strategies: tuple[str, ...]
    shards: int
    players: int
    rps: float
    read_write_ratio: int = READ_WRITE_RATIO
    duration_s: float = DURATION_S
    capacity_s: float = 0.0

    def describe(self) -> str:
        return (
            f"{','.join(self.strategies)} at {self.shards} shards, {self.players:,} players,"
            f" {self.rps:,.0f} req/s, 1 write per {self.read_write_ratio} reads, {self.duration_s:g} s each"
        )

    def command(self) -> str:
        """The `lbbench compare` line that makes this run."""
        return (
            f"lbbench compare --strategies {','.join(self.strategies)} --shards {self.shards}"
            f" --players {self.players} --rps {self.rps:g} --read-write-ratio {self.read_write_ratio}"
            f" --duration {self.duration_s:g}s --capacity-s {self.capacity_s:g}s"
            f" --sample-every {SAMPLE_EVERY}"
        )

    def repeat(self, i: int) -> Scaled:
        return replace(self, label=f"{self.label}-r{i}")

    def options(self, base: CompareOptions, out: Path) -> CompareOptions:
        return replace(
            base,
            strategies=list(self.strategies),
            players=self.players,
            rps=self.rps,
            read_write_ratio=self.read_write_ratio,
            duration_s=self.duration_s,
            capacity_s=self.capacity_s,
            sample_every=SAMPLE_EVERY,
            out=out / self.label,
            topology=replace(base.topology, shards=self.shards),
        )


def measurement(shards: int, players: int, strategies: tuple[str, ...]) -> list[Scaled]:
    """The three compares a plan for ``shards`` shards and ``players`` players measures."""
    measured_shards = max(2, min(shards, MAX_SHARDS))
    fewer = max(1, measured_shards // 2)
    measured_players = min(players, MAX_PLAYERS)
    runs = [
        Scaled("high-rate", strategies, measured_shards, measured_players, HIGH_RPS, capacity_s=CAPACITY_S),
        Scaled("low-rate", strategies, measured_shards, measured_players, LOW_RPS),
    ]
    if "naive" in strategies:
        runs.append(Scaled("naive-fewer-shards", ("naive",), fewer, measured_players, HIGH_RPS))
    return runs


#: --validate: the fit (small runs), then points it did not see, each measured REPEATS times.
FIT = (
    Scaled("fit-5-shards-300", ("naive", "cached"), 5, 100_000, 300.0, 100, 15.0),
    Scaled("fit-5-shards-600", ("naive", "cached"), 5, 100_000, 600.0, 100, 15.0),
    Scaled("fit-10-shards-300", ("naive", "cached"), 10, 100_000, 300.0, 100, 15.0),
)
HELD_OUT = (
    Scaled("10-shards-500", ("naive", "cached"), 10, 1_000_000, 500.0, 100, 15.0),
    Scaled("20-shards-250", ("naive", "cached"), 20, 1_000_000, 250.0, 100, 15.0),
    Scaled("10-shards-cached-1500-ratio-50", ("cached",), 10, 1_000_000, 1500.0, 50, 15.0),
    Scaled("10-shards-cached-1500-ratio-200", ("cached",), 10, 1_000_000, 1500.0, 200, 15.0),
)
REPEATS = 3


def run_all(
    runs: list[Scaled],
    base: CompareOptions,
    out: Path,
    compare: Callable[[CompareOptions], Path],
    progress: Callable[[str], None],
) -> list[Path]:
    """Each run in turn under ``out``, with a progress line before each; their run directories."""
    done = []
    for i, run in enumerate(runs, 1):
        progress(f"run {i} of {len(runs)}: {run.describe()}")
        done.append(compare(run.options(base, out)))
    return done
