"""The tier a plan sizes, and the checks a target must pass before it is planned for.

The type itself (:class:`runfiles.summary.Target`) is part of the run files: summary.json's
``scale_model`` and plan.json record the target they were planned for. Every field left out keeps the
seed's scenario (100M players on 10 shards at 10,000 top-100 reads/s, one write per 1,000 reads, a
top-1000 cache refreshed every 60 s), which is also the plan every run report shows. The command line
reads a target from ``--target key=value,...`` or a ``[target]`` table (lbbench/targetspec.py).
"""

from __future__ import annotations

from runfiles.rtt import BUILT_IN, ProfileError
from runfiles.summary import Target

SEED = Target()


class TargetError(ValueError):
    """A target that cannot be planned for: one line naming the key."""


def check_target(target: Target) -> None:
    """TargetError (one line) where the target cannot be planned for."""
    positive = {
        "players": target.players,
        "shards": target.shards,
        "rps": target.rps,
        "top_n": target.top_n,
        "cached_entries": target.cached_entries,
        "refresh_interval": target.refresh_interval_s,
        "slo_p99_ms": target.slo_p99_ms,
        "server_cores": target.server_cores,
    }
    for key, value in positive.items():
        if not value > 0:
            raise TargetError(f"{key} must be positive, got {value:g}")
    if target.read_write_ratio < 0 or target.max_staleness_s < 0:
        raise TargetError("read_write_ratio and max_staleness must be at least 0")
    if target.top_n > target.cached_entries:
        raise TargetError(f"top_n {target.top_n} is more than the {target.cached_entries} cached entries")
    if target.app_cores is not None and target.app_cores < 1:
        raise TargetError(f"app_cores must be at least 1, got {target.app_cores}")
    try:
        target.profile()
    except ProfileError as exc:
        choices = ", ".join(BUILT_IN)
        raise TargetError(f"network {target.network!r}: not a built-in profile ({choices}): {exc}") from None


__all__ = ["SEED", "Target", "TargetError", "check_target"]
