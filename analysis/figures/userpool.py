"""How a phase's pool of users grew, why, and what it dropped at its limit (loadgen/pool.py).

Each growth is an instant (t, from, to) in one process; the swarm's pool is the sum of its processes'.
Growths less than ``EPISODE_GAP_S`` apart make one episode. The significance rule: an episode grew
*because replies slowed* when, in one of its seconds (or the second after it), the median reply time
(raw latency) or its p99 is more than ``SLOW_REPLY_FACTOR`` times the whole phase's. At a fixed
rate, the reads in flight are the rate times the reply time (Little's law): a stall that slows every
reply moves the median, a hiccup of tens of ms that holds every user for a moment moves the p99, and
either way the system (or the machine) was slow, which corrected latency carries. Otherwise the pool
grew to carry the rate at the phase's usual reply times, because the starting pool was smaller than
rate x reply time. That is how the generator was set up, not a property of the system.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from analysis.load import hdr
from runfiles.summary import Percentiles, UserPool

EPISODE_GAP_S = 1.0
INTERVAL_S = 1.0  # interval rows are cut on whole seconds (loadgen/process.py)
SLOW_REPLY_FACTOR = 2.0
REPLIES_SLOWED = "replies_slowed"
RATE = "rate"


def pool_timeline(start: int, growths: Iterable[Sequence[float]]) -> list[tuple[float, int, int]]:
    """The swarm's pool at each growth of any process, in time order: (t_s, from, to) in all processes."""
    total = start
    timeline = []
    for t_s, before, after, *_ in sorted(growths, key=lambda growth: growth[0]):
        added = int(after) - int(before)
        timeline.append((float(t_s), total, total + added))
        total += added
    return timeline


def _episodes(timeline: list[tuple[float, int, int]]) -> list[list[tuple[float, int, int]]]:
    episodes: list[list[tuple[float, int, int]]] = []
    for growth in timeline:
        if episodes and growth[0] - episodes[-1][-1][0] <= EPISODE_GAP_S:
            episodes[-1].append(growth)
        else:
            episodes.append([growth])
    return episodes


def _count(value: Any) -> int:
    """A count from a report, 0 where it is missing (null in JSON, NaN in a frame)."""
    return 0 if value is None or math.isnan(value) else int(value)


def _key(t_s: float) -> float:
    return round(float(t_s), hdr.INTERVAL_KEY_DECIMALS)


def user_pool(
    records: list[dict[str, Any]],
    workers: list[dict[str, Any]],
    load_start_s: float,
    attempts: int,
    replies_us: dict[str, float] | None,
) -> dict[str, Any] | None:
    """summary.json ``user_pool``: sizes, growth episodes with their cause, dropped slots.

    Args:
        records: the phase's interval rows (frames.interval_records), histograms still encoded.
        workers: the phase's final reports (workers.json).
        load_start_s: when the first process opened its load window (epoch s).
        attempts: reads sent (answered or failed), for the dropped share.
        replies_us: the phase's raw latency (hdr_stats; None without answered reads), which each
            episode's is compared with.

    None for runs from before the pool could grow, and for closed loop (no pool to grow).
    """
    if not workers or not any("grew" in r for r in records):
        return None
    start = sum(_count(w.get("users_start")) for w in workers)
    # Each growth with its interval's key: where the rows of its second are.
    growths = [
        (float(t_s), int(before), int(after), _key(record["t_s"]))
        for record in records
        for t_s, before, after, *_ in record.get("grew") or []
    ]
    timeline = pool_timeline(start, growths)
    key_of = {growth[0]: growth[3] for growth in growths}
    rows_by_key: dict[float, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        rows_by_key[_key(record["t_s"])].append(record)
    episodes = [
        _episode(episode, rows_by_key, key_of, load_start_s, replies_us) for episode in _episodes(timeline)
    ]
    dropped_per_s = {key: sum(_count(r.get("dropped")) for r in rows) for key, rows in rows_by_key.items()}
    dropped = sum(dropped_per_s.values())
    due = attempts + dropped
    return {
        "start": start,
        "end": sum(_count(w.get("users_end")) for w in workers),
        "max": sum(_count(w.get("max_users")) for w in workers),
        "episodes": episodes,
        "dropped": dropped,
        "dropped_share": round(dropped / due, 6) if due else 0.0,
        "dropped_seconds": sum(count > 0 for count in dropped_per_s.values()),
        "dropped_peak_per_s": max(dropped_per_s.values(), default=0),
    }


def _episode(
    growths: list[tuple[float, int, int]],
    rows_by_key: dict[float, list[dict[str, Any]]],
    key_of: dict[float, float],
    load_start_s: float,
    phase_us: dict[str, float] | None,
) -> dict[str, Any]:
    """One episode: when, from how many users to how many, in flight, reply times, and why.

    Its seconds run from its first growth's to the one after its last: a read in flight while the pool
    grew is recorded when it completes, which in a stall is after the growth. Each second is judged on
    its own replies (a stall's slow ones would be outnumbered by the fast ones of the seconds around).
    """
    # A process whose loop was busy flushes late, so its rows' seconds need not follow the growths' order.
    keys = [key_of[growth[0]] for growth in growths]
    span = [key for key in sorted(rows_by_key) if min(keys) <= key <= max(keys) + INTERVAL_S]
    per_second = [_replies(rows_by_key[key]) for key in span]
    slow = [stats for stats in per_second if slowed_at(stats, phase_us) is not None]
    stats = slow[0] if slow else _replies([row for key in span for row in rows_by_key[key]])
    return {
        "from_s": round(growths[0][0] - load_start_s, 3),
        "to_s": round(growths[-1][0] - load_start_s, 3),
        "users_from": growths[0][1],
        "users_to": growths[-1][2],
        # Processes' peaks may fall apart within a second: their sum is an upper bound.
        "in_flight_peak": max(
            (sum(int(row.get("in_flight_max") or 0) for row in rows_by_key[key]) for key in span), default=0
        ),
        "reply_us_p50": None if stats is None else stats["p50"],
        "reply_us_p99": None if stats is None else stats["p99"],
        "cause": REPLIES_SLOWED if slow else RATE,
    }


def _replies(rows: list[dict[str, Any]]) -> dict[str, float] | None:
    """The raw latency of these rows' reads (hdr_stats), or None when none completed."""
    replies = hdr.merge(hdr.decode((row.get("hist") or {}).get("raw")) for row in rows)
    return hdr.hdr_stats(replies) if replies.get_total_count() else None


def slowed_at(episode_us: dict[str, Any] | None, phase_us: dict[str, Any] | None) -> str | None:
    """The quantile ("p50", then "p99") at which an episode's replies were slow for the phase, or None.

    Both hold p50 and p99 in µs (hdr_stats, or a Percentiles record's fields); None: not known.
    """
    for quantile in ("p50", "p99"):
        mine, usual = (episode_us or {}).get(quantile), (phase_us or {}).get(quantile)
        if mine is not None and usual and mine > SLOW_REPLY_FACTOR * usual:
            return quantile
    return None


def growth_line(pool: UserPool, phase_us: Percentiles | None) -> str | None:
    """ "users grew 20 → 190 in the first 2.0 s (...)", and why, per episode; None when it never grew."""
    said = []
    phase = None if phase_us is None else {"p50": phase_us.p50, "p99": phase_us.p99}
    for episode in pool.episodes or []:
        from_s, to_s = episode.from_s or 0.0, episode.to_s or 0.0
        if from_s < 1.0:
            when = f"in the first {max(to_s, 0.1):.1f} s"
        else:
            start, end = f"{from_s:.1f}", f"{to_s:.1f}"
            when = f"at {start} s" if start == end else f"at {start}-{end} s"
        peak = f"in flight peak {episode.in_flight_peak or 0:,}"
        episode_us = {"p50": episode.reply_us_p50, "p99": episode.reply_us_p99}
        quantile = slowed_at(episode_us, phase) if episode.cause == REPLIES_SLOWED else None
        if quantile is not None:
            name = "median" if quantile == "p50" else "p99"
            # slowed_at found both figures.
            took, usual = (episode_us[quantile] or 0.0) / 1000, ((phase or {}).get(quantile) or 0.0) / 1000
            why = (
                f"{peak} while replies took {took:.2f} ms ({name}; {usual:.2f} ms over the phase):"
                " replies slowed"
            )
        else:
            why = f"{peak} at {(episode.reply_us_p50 or 0.0) / 1000:.2f} ms replies: the rate needed them"
        said.append(f"{episode.users_from or 0:,} → {episode.users_to or 0:,} {when} ({why})")
    return "users grew " + "; ".join(said) if said else None


def dropped_reason(pool: dict[str, Any] | None) -> str | None:
    """Why a phase that dropped slots is not valid; None when it dropped none."""
    if not pool or not pool.get("dropped"):
        return None
    users = "the one user" if pool["end"] == 1 else f"all {pool['end']:,} users"
    return (
        f"dropped {pool['dropped']:,} due requests ({pool['dropped_share']:.2%}) with {users}"
        " (--max-users) busy: that load was never sent"
    )
