"""What each read path does when a part of the system fails: the failure policies, chosen per run.

Every connection times out after ``--timeout-ms`` and never retries (bench/wire/policy.py), so a
failed part shows up as an exception; these policies say what the request, or the refresh, makes
of it (docs/failure-policies.md).
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

import redis

# What a shard or node failing looks like on the wire: a timeout, a refused or reset connection.
# Anything else (a reply error, a bug) is not a failed part, and fails the request under any policy.
NODE_FAULTS: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError, OSError)

FAIL, PARTIAL, KEEP = "fail", "partial", "keep"
NONE, NAIVE = "none", "naive"
NAIVE_ON_SHARD_ERROR = (FAIL, PARTIAL)  # a naive request with a shard down: fail, or top of the rest
CACHED_FALLBACK = (NONE, NAIVE)  # a cached request with the cache down or empty: fail, or scatter
REFRESHER_ON_SHARD_ERROR = (KEEP, PARTIAL)  # a refresh with a shard down: keep the old cache, or publish


def forget_frames(error: BaseException) -> None:
    """Clear the frames ``error``'s tracebacks hold (its context's too), keeping its type and message.

    redis-py raises from inside ``except`` blocks whose frames still hold the error: a reference cycle
    per failed command that only the cyclic GC frees. Hundreds of failures a second (a stalled shard)
    made its full collections stop the load generator's event loop for 100-250 ms, which showed as
    the generator's own lag. Freed here, they go by reference counting.
    """
    seen: BaseException | None = error
    while seen is not None:
        traceback.clear_frames(seen.__traceback__)
        seen = seen.__context__


class CacheEmptyError(RuntimeError):
    """The cache key is missing or empty (e.g. the cache node came back without its data)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"cache empty: {key}")


@dataclass(frozen=True)
class FailurePolicy:
    """The run's failure policies (defaults: fail, none, keep: no answer the run did not ask for)."""

    naive_on_shard_error: str = FAIL
    cached_fallback: str = NONE
    refresher_on_shard_error: str = KEEP

    def problems(self) -> list[str]:
        """One line per policy not among its choices (empty: valid)."""
        given = (
            ("--naive-on-shard-error", self.naive_on_shard_error, NAIVE_ON_SHARD_ERROR),
            ("--cached-fallback", self.cached_fallback, CACHED_FALLBACK),
            ("--refresher-on-shard-error", self.refresher_on_shard_error, REFRESHER_ON_SHARD_ERROR),
        )
        return [
            f"{flag} must be one of {', '.join(choices)}, got {value!r}"
            for flag, value, choices in given
            if value not in choices
        ]

    @property
    def naive_partial(self) -> bool:
        return self.naive_on_shard_error == PARTIAL

    @property
    def cached_falls_back(self) -> bool:
        return self.cached_fallback == NAIVE

    @property
    def refresh_partial(self) -> bool:
        return self.refresher_on_shard_error == PARTIAL
