"""Schedule lag split by cause: every user busy on a slow system, or the generator itself late.

A request's schedule lag (send - intended start) has two parts. Until a user is free to take the
slot, every user is busy with earlier requests: when the system stalls, that wait grows with the
stall. It is a measurement of the system, and corrected latency already carries it. From then on
(or from the intended start, if a user was waiting for the slot) to the send, the lag is the
generator's own: a free user that could not send on time because the event loop or CPU was busy.
Only the second part says the generator, not the system, was the limit (``summary.guard_reasons``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from hdrh.histogram import HdrHistogram

from analysis.load import hdr

USERS_EXHAUSTED = "users_exhausted"
GENERATOR = "generator"


def generator_lag_us(histograms: dict[str, HdrHistogram]) -> dict[str, float] | None:
    """The generator's own lag (HDR stats, µs); None for runs recorded before it was split off."""
    gen_lag = histograms.get("gen_lag")
    if gen_lag is None or not gen_lag.get_total_count():
        return None
    return hdr.hdr_stats(gen_lag)


def split_generator_lag(records: list[dict[str, Any]]) -> tuple[HdrHistogram, HdrHistogram]:
    """The generator's own lag in the process-seconds without exhausted users, and in those with some.

    When a stall ends, every user is free at once with a backlog of overdue slots: the generator
    sends that backlog as fast as it can, and the free users' sends queue behind it for a moment.
    That catch-up is the stall's wake, not a generator too slow for the rate, so the guard limits the
    lag outside those seconds (a generator short of CPU still fails the CPU check); the catch-up is
    reported apart. A phase with exhausted users in every second has no calm seconds and no wake to
    leave out (the users never came free): its whole own lag is what the guard limits.
    """
    calm: list[HdrHistogram] = []
    catch_up: list[HdrHistogram] = []
    for record in records:
        encoded = (record.get("hist") or {}).get("gen_lag")
        (catch_up if record.get("exhausted") else calm).append(hdr.decode(encoded))
    calm_lag, catch_up_lag = hdr.merge(calm), hdr.merge(catch_up)
    if not calm_lag.get_total_count():
        return catch_up_lag, calm_lag
    return calm_lag, catch_up_lag


def guarded_lag(entry: dict[str, Any]) -> tuple[str, float]:
    """The lag the guard limits, and its name: the generator's own, or the whole lag for older runs."""
    own = entry.get("generator_lag_us")
    if own is not None:
        return "generator lag", float(own["p99"])
    return "schedule lag", float(entry["schedule_lag_us"]["p99"])


def lag_cause(entry: dict[str, Any], limit_us: float | None, cpu_limit_percent: float | None) -> str | None:
    """Why the schedule lag p99 is over the limit: the generator (own lag or CPU), or exhausted users.

    Users kept busy by a generator short of CPU are its doing, not the system's.
    """
    if limit_us is None or entry["schedule_lag_us"]["p99"] <= limit_us:
        return None
    name, p99_us = guarded_lag(entry)
    cpu_over = cpu_limit_percent is not None and entry["loadgen_cpu_percent"]["max"] > cpu_limit_percent
    return GENERATOR if name == "schedule lag" or p99_us > limit_us or cpu_over else USERS_EXHAUSTED


def _episodes(per_second: pd.DataFrame, load_start_s: float) -> list[dict[str, Any]]:
    """Runs of consecutive seconds in which users were exhausted: from, to (s into the window), requests."""
    episodes: list[dict[str, Any]] = []
    previous_t_s: float | None = None
    busy = per_second[per_second["exhausted"] > 0]
    for t_s, count, first_s, last_s in zip(
        busy.index.astype(float), busy["exhausted"], busy["first_s"], busy["last_s"], strict=True
    ):
        if previous_t_s is None or t_s - previous_t_s > 1:
            episodes.append({"from_s": float(first_s), "to_s": 0.0, "requests": 0})
        episodes[-1]["to_s"] = float(last_s)
        episodes[-1]["requests"] += int(count)
        previous_t_s = t_s
    for episode in episodes:
        episode["from_s"] = round(episode["from_s"] - load_start_s, 3)
        episode["to_s"] = round(episode["to_s"] - load_start_s, 3)
    return episodes


def users_exhausted(
    interval_frame: pd.DataFrame, load_start_s: float, users: int, attempts: int
) -> dict[str, Any]:
    """Reads that found every user busy, when (s since the load window opened), and peak in-flight.

    Args:
        interval_frame: the strategy's interval rows (frames.intervals).
        load_start_s: when the first process sent its first request (epoch s).
        users: the phase's --users, the swarm's in-flight limit.
        attempts: reads attempted, for the share.
    """
    per_second = interval_frame.groupby(interval_frame["t_s"].round(hdr.INTERVAL_KEY_DECIMALS)).agg(
        exhausted=("exhausted", "sum"),
        first_s=("exhausted_first_s", "min"),
        last_s=("exhausted_last_s", "max"),
        # Processes' peaks may fall apart within a second: their sum is an upper bound.
        in_flight_max=("in_flight_max", "sum"),
    )
    exhausted = int(per_second["exhausted"].sum())
    episodes = _episodes(per_second.sort_index(), load_start_s)
    return {
        "requests": exhausted,
        "share": round(exhausted / attempts, 6) if attempts else 0.0,
        "first_at_s": episodes[0]["from_s"] if episodes else None,
        "last_at_s": episodes[-1]["to_s"] if episodes else None,
        "seconds": int((per_second["exhausted"] > 0).sum()),
        "episodes": episodes,
        "in_flight_max": int(per_second["in_flight_max"].max()) if len(per_second) else 0,
        "users": users,
    }
