"""Round-trip-time profiles: the network a projection or a delay relay puts between client and node.

A profile is a few quantiles of the round trip (ms); a draw interpolates linearly between them
(inverse CDF) and holds the end values beyond the first and last quantile. The built-in figures and
where they come from are in docs/network-model.md. A user's own profile is a small TOML file::

    name = "my-dc"                 # optional; the file's stem otherwise
    source = "ping, 1,000 probes"  # optional: where the figures come from
    [rtt_ms]                       # at least two quantiles pN (0 <= N <= 100), ms, non-decreasing
    p0 = 0.08
    p50 = 0.21
    p99 = 0.9
"""

from __future__ import annotations

import itertools
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt


class ProfileError(ValueError):
    """A profile file that cannot be used; the message is one line naming the file and the fault."""


@dataclass(frozen=True)
class RttProfile:
    """Round-trip-time quantiles: ``quantiles`` (0..1) against ``rtt_us``, both increasing."""

    name: str
    quantiles: tuple[float, ...]
    rtt_us: tuple[float, ...]
    source: str = ""

    def draw_us(self, rng: np.random.Generator, shape: int | tuple[int, ...]) -> npt.NDArray[np.float64]:
        """Round trips drawn by inverse CDF (uniform u through the quantile table), µs."""
        u = rng.random(shape)
        return np.interp(u, self.quantiles, self.rtt_us)

    def at(self, q: float) -> float:
        """The round trip at quantile ``q`` (0..1), µs."""
        return float(np.interp(q, self.quantiles, self.rtt_us))


def _profile(name: str, source: str, rtt_ms: dict[str, float]) -> RttProfile:
    pairs = sorted((float(key[1:]) / 100, value * 1000) for key, value in rtt_ms.items())
    return RttProfile(name, tuple(q for q, _ in pairs), tuple(v for _, v in pairs), source)


LOOPBACK = _profile("loopback", "nothing added: this machine's loopback, as measured", {"p0": 0, "p100": 0})
# Assumption bounded by published figures (docs/network-model.md): within one zone a few hundred µs,
# under Google Cloud's "<1 ms at the 95th percentile" for locations within a region.
SAME_ZONE = _profile(
    "same-zone",
    "assumption under Google Cloud's published <1 ms p95 within a region",
    {"p0": 0.08, "p50": 0.2, "p90": 0.3, "p99": 0.5, "p100": 1.0},
)
# Azure publishes "<2 ms" round trip between availability zones, Google Cloud <1 ms p95 within a
# region; a p50 of 1 ms and a p99 of 2 ms sit between those (an assumption, docs/network-model.md).
CROSS_ZONE = _profile(
    "cross-zone",
    "Azure's published <2 ms round trip between zones taken as p99; p50 1 ms assumed",
    {"p0": 0.4, "p50": 1.0, "p90": 1.5, "p99": 2.0, "p100": 3.0},
)
BUILT_IN = {p.name: p for p in (LOOPBACK, SAME_ZONE, CROSS_ZONE)}


def _quantile_key(path: Path, key: str) -> float:
    try:
        percent = float(key[1:]) if key.startswith("p") else math.nan
    except ValueError:
        percent = math.nan
    if not 0 <= percent <= 100:
        example = 'e.g. p50, or "p99.9" in quotes'
        raise ProfileError(f"{path}: [rtt_ms] key {key!r} is not a quantile p0..p100 ({example})")
    return percent


def parse_profile(path: Path) -> RttProfile:
    """The profile in a TOML file (format in this module's docstring); ProfileError on any fault."""
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ProfileError(f"cannot read RTT profile {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: not TOML ({exc})") from None
    table = data.get("rtt_ms")
    if not isinstance(table, dict) or len(table) < 2:
        raise ProfileError(f"{path}: needs an [rtt_ms] table of at least two quantiles, e.g. p50 = 0.3")
    rtt_ms: dict[str, float] = {}
    for key, value in table.items():
        _quantile_key(path, key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
            raise ProfileError(f"{path}: [rtt_ms] {key} = {value!r} is not a round trip in ms (>= 0)")
        rtt_ms[key] = float(value)
    ordered = sorted(rtt_ms.items(), key=lambda kv: _quantile_key(path, kv[0]))
    for (low_key, low), (high_key, high) in itertools.pairwise(ordered):
        if high < low:
            raise ProfileError(f"{path}: [rtt_ms] {high_key} = {high} is below {low_key} = {low}")
    name = data.get("name", path.stem)
    source = data.get("source", f"user profile {path.name}")
    if not isinstance(name, str) or not name or not isinstance(source, str):
        raise ProfileError(f"{path}: name and source must be strings")
    return _profile(name, source, rtt_ms)
