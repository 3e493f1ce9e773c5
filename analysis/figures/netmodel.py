"""The network projection: this run's measured parts composed with a round-trip-time profile.

By Monte Carlo, per draw:

- naive = max over shards of (send offset_i + rtt_i + reply_i) + merge, where one sampled fan-out
  gives every socket's send offset (from the scatter's start), its send-to-reply time and the merge;
- cached = rtt + service (the cached read's send-to-reply time).

Each rtt is drawn independently from the profile. For fewer shards than the run had, a draw keeps
the first k sockets of a sampled fan-out; for more, the client sends every request before it reads a
reply, so each extra socket delays every completion by one measured send step (the mean gap between
successive sends), and completes one measured client step (the mean gap between successive
completions) after the one before it -- a linear extrapolation of the client's serial sending and
reading, said in the report. Measured on this machine from 10 to 20 shards (docs/planning.md), a
step-only extrapolation missed naive's p50 by a quarter; this one is within the run-to-run spread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from analysis.load import frames
from runfiles.rtt import BUILT_IN, RttProfile

DRAWS = 20_000
SEED = 12
SHARD_COUNTS = (1, 2, 5, 10, 20, 30, 40, 50)
MAX_SHARDS = 50

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Parts:
    """The sampled parts of one run: naive fan-outs (rows) by socket (columns), cached service times."""

    send_us: Floats  # (fan-outs, shards)
    reply_us: Floats  # (fan-outs, shards)
    merge_us: Floats  # (fan-outs,)
    service_us: Floats  # (cached reads,)

    @property
    def shards(self) -> int:
        return int(self.reply_us.shape[1]) if self.reply_us.ndim == 2 else 0


def read_parts(run_dir: Path, naive: str = "naive", cached: str = "cached") -> Parts:
    """The sampled reply times in a run's intervals.jsonl (none in runs made before they were)."""
    strategies = frames.strategies(run_dir)
    fanouts: list[tuple[list[float], list[float], float]] = []
    for record in _records(run_dir, naive, strategies):
        fanouts += zip(*_naive_lists(record), strict=True)
    widths = {len(send) for send, _, _ in fanouts}
    if len(widths) > 1:  # a topology whose shard count changed mid-run: keep the commonest width
        common = max(widths, key=lambda w: sum(len(f[0]) == w for f in fanouts))
        fanouts = [f for f in fanouts if len(f[0]) == common]
    service = [v for r in _records(run_dir, cached, strategies) for v in r.get("service_us") or []]
    width = len(fanouts[0][0]) if fanouts else 0
    return Parts(
        send_us=np.array([f[0] for f in fanouts], dtype=np.float64).reshape(len(fanouts), width),
        reply_us=np.array([f[1] for f in fanouts], dtype=np.float64).reshape(len(fanouts), width),
        merge_us=np.array([f[2] for f in fanouts], dtype=np.float64),
        service_us=np.array(service, dtype=np.float64),
    )


def _records(run_dir: Path, strategy: str, strategies: list[str]) -> list[dict[str, Any]]:
    return frames.interval_records(run_dir, strategy) if strategy in strategies else []


def _naive_lists(record: dict[str, Any]) -> tuple[list[Any], list[Any], list[Any]]:
    send, reply, merge = (record.get(key) or [] for key in ("shard_send_us", "shard_reply_us", "merge_us"))
    return send, reply, merge


def naive_draws(parts: Parts, profile: RttProfile, shards: int, rng: np.random.Generator) -> Floats:
    """Projected naive latencies (µs) with ``shards`` shards: max_i(send_i + rtt_i + reply_i) + merge."""
    rows = rng.integers(0, len(parts.merge_us), DRAWS)
    local = (parts.send_us + parts.reply_us)[rows]
    measured = parts.shards
    if shards <= measured:
        local = local[:, :shards]
    else:
        # The extra sends come before any read: every completion moves one send step per extra socket;
        # the extra sockets are read after the last one, a client step apart.
        extra = shards - measured
        local = local + extra * send_step_us(parts)
        steps = np.arange(1, extra + 1, dtype=np.float64) * client_step_us(parts)
        local = np.concatenate([local, local[:, -1:] + steps], axis=1)
    total: Floats = (local + profile.draw_us(rng, local.shape)).max(axis=1) + parts.merge_us[rows]
    return total


def client_step_us(parts: Parts) -> float:
    """How much later, on average, each next socket of a fan-out completes (send offset + reply)."""
    if parts.shards < 2:
        return 0.0
    done = parts.send_us + parts.reply_us
    return float(np.mean(done[:, -1] - done[:, 0]) / (parts.shards - 1))


def send_step_us(parts: Parts) -> float:
    """How much later, on average, each next socket of a fan-out is sent."""
    if parts.shards < 2:
        return 0.0
    return float(np.mean(parts.send_us[:, -1] - parts.send_us[:, 0]) / (parts.shards - 1))


def cached_draws(parts: Parts, profile: RttProfile, rng: np.random.Generator) -> Floats:
    """Projected cached latencies (µs): rtt + service."""
    service = parts.service_us[rng.integers(0, len(parts.service_us), DRAWS)]
    total: Floats = service + profile.draw_us(rng, DRAWS)
    return total


def _p(values: Floats) -> dict[str, float]:
    p50, p99 = np.percentile(values, [50, 99])
    return {"p50": round(float(p50), 1), "p99": round(float(p99), 1)}


def project(parts: Parts, profile: RttProfile, seed: int = SEED) -> dict[str, Any]:
    """One profile's projection: naive and cached p50/p99 at the run's shard count, and naive by shards."""
    rng = np.random.default_rng(seed)
    entry: dict[str, Any] = {
        "source": profile.source,
        "rtt_us": {"p50": round(profile.at(0.5), 1), "p99": round(profile.at(0.99), 1)},
        "naive_us": None,
        "cached_us": None,
        "naive_by_shards": [],
    }
    if len(parts.merge_us):
        entry["naive_us"] = _p(naive_draws(parts, profile, parts.shards, rng))
        entry["naive_by_shards"] = [
            {"shards": k, **_p(naive_draws(parts, profile, k, rng))} for k in range(1, MAX_SHARDS + 1)
        ]
    if len(parts.service_us):
        entry["cached_us"] = _p(cached_draws(parts, profile, rng))
    return entry


def network_summary(
    run_dir: Path, extra: tuple[RttProfile, ...] = (), sample_every: int | None = None
) -> dict[str, Any] | None:
    """summary.json's ``network``: every profile's projection from this run's sampled parts.

    None when the run sampled nothing (runs from before the sampling, or no naive and no cached).
    """
    parts = read_parts(run_dir)
    if not len(parts.merge_us) and not len(parts.service_us):
        return None
    profiles = {**BUILT_IN, **{p.name: p for p in extra}}
    return {
        "model": "naive = max_i(send_i + rtt_i + reply_i) + merge; cached = rtt + service",
        "shards": parts.shards,
        "sample_every": sample_every,  # one read in this many per user was sampled
        "samples": {"naive": len(parts.merge_us), "cached": len(parts.service_us)},
        "draws": DRAWS,
        "seed": SEED,
        "profiles": {name: project(parts, profile) for name, profile in profiles.items()},
    }
