"""The seed design doc's quantitative claims (a-h), each checked against a run's summary."""

from __future__ import annotations

import math

from analysis.fmt import fmt_count, fmt_kb, fmt_ms, invalid_reason, ratio
from analysis.verdicts.capacity import scalable_verdict, why_not
from analysis.verdicts.verdict import Claim, Verdict
from runfiles.summary import P50P99, Capacity, Network, Percentiles, Refresher, StrategySummary, Summary

SEED_RPS = 10_000
SEED_NAIVE_P50_US = (10_000.0, 20_000.0)
VERDICT_PROFILE = "cross-zone"  # the network profile claim (a)'s verdict is projected under
SEED_CACHED_P99_US = 1_000.0
SEED_TRAFFIC_MB_PER_S = 10.0
SEED_SCALABLE_RPS = 100_000
SEED_REFRESH_INTERVAL_S = 60
COUNT_TOLERANCE = 0.02  # a few retries or stray commands must not flip a verdict
TRAFFIC_FACTOR = 2.0
NOT_IN_RUN = "strategy not in this run"
LOOPBACK = (
    "this machine talks to Redis over loopback or a local bridge (no network RTT) and the load generator"
    " is Python"
)
CLAIMS = {
    "a": 'Naive: "Performance: 10-20ms per request"',
    "b": 'Cached: "Fast Reads: 1ms (single Redis query, no scatter-gather)"',
    "c": 'Naive: "Network amplification (1 user query → 10 Redis queries)"',
    "d": 'Naive: "At 10k requests/sec: 10k × 10 shard queries = 100k queries/sec to Redis!"',  # noqa: RUF001
    "e": 'Naive: "Network traffic: 10MB/sec just for leaderboard queries"',
    "f": 'Cached: "Network Efficient: 1 user query → 1 Redis query (not 10)"; "reads from one node"',
    "g": 'Cached: "Scalable: 100k+ requests/sec (reads from one node)"',
    "h": 'Cached: "Low Resource Usage: Scatter-gather happens once/minute, not per request"',
}


def _claim(key: str, measured: str, projected: str, holds: bool | None, reason: str) -> Claim:
    """Build a Claim; holds=None means not measurable here."""
    verdict = Verdict.NOT_MEASURABLE if holds is None else Verdict.HOLDS if holds else Verdict.DOES_NOT_HOLD
    return Claim(key, CLAIMS[key], measured, projected, verdict, reason)


def _unmeasurable(key: str, reason: str = NOT_IN_RUN) -> Claim:
    """A claim this run cannot check."""
    return _claim(key, "n/a", "n/a", None, reason)


def _within(value: float | None, target: float, tolerance: float = COUNT_TOLERANCE) -> bool:
    """Whether value is within a relative tolerance of target."""
    return value is not None and abs(value - target) <= tolerance * abs(target)


def latency(section: StrategySummary | None) -> Percentiles:
    """A strategy's corrected latency, empty (every figure None) where it has none."""
    return (section.latency_us if section else None) or Percentiles()


def _latency_text(section: StrategySummary) -> str:
    """Corrected p50 and p99 in ms."""
    return f"p50 {fmt_ms(latency(section).p50)} ms, p99 {fmt_ms(latency(section).p99)} ms"


def _projection_text(network: Network, profile: str) -> str:
    """The network model's naive and cached p50/p99 under one profile, labelled as a projection."""
    p = (network.profiles or {})[profile]
    rtt, naive, cached = p.rtt_us or P50P99(), p.naive_us or P50P99(), p.cached_us or P50P99()
    return (
        f"projection, {profile} RTT profile (RTT p50 {fmt_ms(rtt.p50)} ms):"
        f" naive p50 {fmt_ms(naive.p50)} ms, p99 {fmt_ms(naive.p99)} ms;"
        f" cached p50 {fmt_ms(cached.p50)} ms, p99 {fmt_ms(cached.p99)} ms"
    )


def _projected_naive_p50_us(network: Network | None) -> float | None:
    profile = (network.profiles or {}).get(VERDICT_PROFILE) if network else None
    naive_us = profile.naive_us if profile else None
    return naive_us.p50 if naive_us else None


def _claim_a(
    naive: StrategySummary | None, cached: StrategySummary | None, network: Network | None = None
) -> Claim:
    """Naive absolute latency: from the network projection under VERDICT_PROFILE when the run has one.

    Without one (runs from before the sampled parts), judged on loopback as measured, where the
    naive/cached ratio is the figure that carries over.
    """
    p50_us = latency(naive).p50
    if naive is None or p50_us is None:
        return _unmeasurable("a", NOT_IN_RUN if naive is None else "no successful requests")
    invalid = invalid_reason(naive)
    if invalid is not None:
        return _claim("a", _latency_text(naive), "n/a (a latency)", None, f"naive run not valid: {invalid}")
    # A ratio against an invalid cached run would compare Redis with a saturated generator.
    p50_ratio = None if invalid_reason(cached) else ratio(p50_us, latency(cached).p50)
    ratio_text = "" if p50_ratio is None else f"; naive/cached p50 ratio {p50_ratio:.1f}x (seed: 10-20x)"
    low_us, high_us = SEED_NAIVE_P50_US
    projected_p50_us = _projected_naive_p50_us(network)
    if network is not None and projected_p50_us is not None:
        inside = low_us <= projected_p50_us <= high_us
        reason = (
            f"judged on the projection with the {VERDICT_PROFILE} profile (the farthest built-in network),"
            f" this run's measured per-shard reply times plus round trips after published figures"
            f" (Network projection);"
            f" projected naive p50 {fmt_ms(projected_p50_us)} ms is {'inside' if inside else 'outside'}"
            f" 10-20 ms; measured here over loopback"
        )
        projected = _projection_text(network, VERDICT_PROFILE)
        return _claim("a", _latency_text(naive) + ratio_text, projected, inside, reason)
    reason = f"{LOOPBACK}, so absolute latency is not the seed's setting; compare the naive/cached ratio"
    return _claim(
        "a", _latency_text(naive) + ratio_text, "n/a (a latency)", low_us <= p50_us <= high_us, reason
    )


def _claim_b(cached: StrategySummary | None) -> Claim:
    """Cached absolute latency, judged on p99."""
    p99_us = latency(cached).p99
    if cached is None or p99_us is None:
        return _unmeasurable("b", NOT_IN_RUN if cached is None else "no successful requests")
    invalid = invalid_reason(cached)
    if invalid is not None:
        return _claim("b", _latency_text(cached), "n/a (a latency)", None, f"cached run not valid: {invalid}")
    holds = p99_us <= SEED_CACHED_P99_US
    reason = (
        f"p99 {'<=' if holds else '>'} 1 ms; {LOOPBACK}, so there is no network time but Python client time"
    )
    return _claim("b", _latency_text(cached), "n/a (a latency)", holds, reason)


def _claim_c(naive: StrategySummary | None, cached: StrategySummary | None, shards: float | None) -> Claim:
    """Naive fan-out: Redis commands per user request against the shard count."""
    cmds = naive.redis_commands_per_request if naive else None
    if naive is None or cmds is None or shards is None:
        return _unmeasurable("c", NOT_IN_RUN if naive is None else "commands/request or shard count missing")
    cached_cmds = cached.redis_commands_per_request if cached else None
    measured = f"naive {cmds:.2f} Redis commands/request" + (
        "" if cached_cmds is None else f"; cached {cached_cmds:.2f}"
    )
    holds = _within(cmds, shards)
    reason = f"{'within' if holds else 'not within'} 2% of this run's {shards:.0f} shards (seed: 10)"
    return _claim("c", measured, "same per request", holds, reason)


def _claim_d(naive: StrategySummary | None, shards: float | None) -> Claim:
    """Naive Redis command rate projected to the seed's request rate."""
    cmds = naive.redis_commands_per_request if naive else None
    if naive is None or cmds is None or shards is None:
        return _unmeasurable("d", NOT_IN_RUN if naive is None else "commands/request or shard count missing")
    projected_per_s, expected_per_s = cmds * SEED_RPS, shards * SEED_RPS
    rps_text = fmt_count(naive.rps)
    measured = f"{fmt_count(naive.redis_ops_per_s)} Redis commands/s at {rps_text} req/s"
    reason = (
        f"{cmds:.2f} commands/request x 10,000 req/s; {shards:.0f} shards give {fmt_count(expected_per_s)}"
    )
    projected = f"{fmt_count(projected_per_s)} Redis commands/s"
    return _claim("d", measured, projected, _within(projected_per_s, expected_per_s), reason)


def _claim_e(naive: StrategySummary | None) -> Claim:
    """Naive Redis-to-client bytes projected to the seed's request rate."""
    bytes_out = naive.bytes_out_per_request if naive else None
    if naive is None or bytes_out is None:
        return _unmeasurable("e", NOT_IN_RUN if naive is None else "bytes_out_per_request missing")
    projected_mb_per_s = bytes_out * SEED_RPS / 1e6
    seed_kb_per_request = SEED_TRAFFIC_MB_PER_S * 1e6 / SEED_RPS / 1000.0
    holds = (
        SEED_TRAFFIC_MB_PER_S / TRAFFIC_FACTOR <= projected_mb_per_s <= SEED_TRAFFIC_MB_PER_S * TRAFFIC_FACTOR
    )
    bytes_in_text = fmt_count(naive.bytes_in_per_request)
    measured = f"{fmt_kb(bytes_out)} kB/request out of Redis ({bytes_in_text} B/request into Redis)"
    reason = (
        f"{'within' if holds else 'outside'} a factor 2 of 10 MB/s; the seed's figure fits"
        f" ~{seed_kb_per_request:.0f} kB per request, far less than 10 replies of top-N members with scores"
    )
    return _claim("e", measured, f"{projected_mb_per_s:,.1f} MB/s", holds, reason)


def _claim_f(cached: StrategySummary | None) -> Claim:
    """Cached reads: one command on one node per request."""
    if cached is None:
        return _unmeasurable("f")
    cmds, nodes = cached.redis_commands_per_request, cached.nodes_per_request
    if cmds is None or nodes is None:
        return _unmeasurable("f", "commands/request or nodes/request missing")
    holds = _within(cmds, 1.0) and nodes == 1
    measured = f"{cmds:.2f} Redis commands/request served by {nodes:.0f} node(s)"
    reason = "needs ~1 command (within 2%) on exactly 1 node"
    return _claim("f", measured, f"{fmt_count(cmds * SEED_RPS)} Redis commands/s", holds, reason)


def _claim_g(cached: StrategySummary | None, capacity: Capacity | None = None) -> Claim:
    """Cached throughput of one node: measured with a compiled client, else projected from Redis CPU."""
    if cached is None:
        return _unmeasurable("g")
    found = scalable_verdict(capacity, SEED_SCALABLE_RPS)
    if found is not None:
        return Claim("g", CLAIMS["g"], *found)
    rps, cpu_us = cached.rps, cached.redis_cpu_us_per_request
    per_core_rps = ratio(1e6, cpu_us)
    projected = "n/a" if per_core_rps is None else f"~{fmt_count(per_core_rps)} req/s per Redis core"
    if rps is not None and rps >= SEED_SCALABLE_RPS:
        return _claim("g", f"{fmt_count(rps)} req/s", projected, True, "reached 100k req/s in this run")
    headroom = (
        "no Redis CPU figure to project from"
        if per_core_rps is None or cpu_us is None
        else f"projected as 1e6 / {cpu_us:,.1f} Redis CPU µs/request (all nodes, so a pessimistic cost),"
        f" {'above' if per_core_rps >= SEED_SCALABLE_RPS else 'below'} 100k req/s on one core"
    )
    why = why_not(capacity, "zset")
    reason = f"the Python load generator did not reach 100k req/s; {headroom}; per-node capacity: {why}"
    return _claim("g", f"{fmt_count(rps)} req/s", projected, None, reason)


def _claim_h(naive: StrategySummary | None, cached: StrategySummary | None) -> Claim:
    """Refresher scatter-gather commands/s against naive's per-request scatter-gather."""
    if naive is None or cached is None:
        return _unmeasurable("h")
    refresher = cached.refresher or Refresher()
    refreshes, interval_s = refresher.refreshes, refresher.interval_s
    refresh_cmds_per_s = ratio(refresher.commands_per_refresh, interval_s)
    naive_cmds = naive.redis_commands_per_request
    naive_cmds_per_s = naive.redis_ops_per_s
    if not refreshes or refresh_cmds_per_s is None or interval_s is None or not naive_cmds_per_s:
        return _unmeasurable("h", "no completed refresh, or no naive command rate")
    max_refreshes = math.ceil((cached.duration_s or 0.0) / interval_s) + 1  # +1: priming refresh
    fewer = fmt_count(naive_cmds_per_s / refresh_cmds_per_s)
    measured = (
        f"{refreshes:.0f} refreshes, one per {interval_s:g} s: {refresh_cmds_per_s:,.2f} commands/s vs naive"
        f" {fmt_count(naive_cmds_per_s)} commands/s ({fewer}x fewer)"
    )
    naive_projected = "n/a" if naive_cmds is None else fmt_count(naive_cmds * SEED_RPS)
    projected = f"{refresh_cmds_per_s:,.2f} vs naive {naive_projected} commands/s"
    holds = refreshes <= max_refreshes and refresh_cmds_per_s < naive_cmds_per_s
    reason = (
        f"refresh cost does not grow with the request rate (every {interval_s:g} s here,"
        f" {SEED_REFRESH_INTERVAL_S} s in the seed)"
        if holds
        else f"more refreshes than the {max_refreshes} expected, or they cost more than naive"
    )
    return _claim("h", measured, projected, holds, reason)


def seed_claims(summary: Summary) -> list[Claim]:
    """Check the seed doc's quantitative claims (keys a-h) against a run's summary."""
    naive, cached = summary.strategies.get("naive"), summary.strategies.get("cached")
    shards = summary.scenario.shards if summary.scenario else None
    return [
        _claim_a(naive, cached, summary.network),
        _claim_b(cached),
        _claim_c(naive, cached, shards),
        _claim_d(naive, shards),
        _claim_e(naive),
        _claim_f(cached),
        _claim_g(cached, summary.capacity),
        _claim_h(naive, cached),
    ]


def _format_figures(section: StrategySummary) -> str:
    """Bytes out, client CPU and corrected p50/p99 of one cache format's reads."""
    kb = fmt_kb(section.bytes_out_per_request)
    cpu_us = fmt_count(section.client_cpu_us_per_request)
    return f"{kb} kB/request out of Redis, {cpu_us} client CPU µs/request, {_latency_text(section)}"


def cache_format_comparison(summary: Summary) -> str | None:
    """Sorted-set cache (cached) against blob cache (blob), per request; None unless both ran."""
    zset, blob = summary.strategies.get("cached"), summary.strategies.get("blob")
    if zset is None or blob is None:
        return None
    ratios = {
        "bytes": ratio(blob.bytes_out_per_request, zset.bytes_out_per_request),
        "client CPU": ratio(blob.client_cpu_us_per_request, zset.client_cpu_us_per_request),
        "p50": ratio(latency(blob).p50, latency(zset).p50),
        "p99": ratio(latency(blob).p99, latency(zset).p99),
    }
    text = (
        f"Sorted set (cached, `ZRANGE ... WITHSCORES`): {_format_figures(zset)}. Blob (blob, `GETRANGE` of"
        f" fixed-width records): {_format_figures(blob)}."
    )
    shown = [f"{label} {value:.2f}x" for label, value in ratios.items() if value is not None]
    if shown:
        text += f" Blob / sorted set: {', '.join(shown)}."
    zset_ram = zset.memory.cache_key_bytes if zset.memory else None
    blob_ram = blob.memory.by_label.get("cache_blob_bytes") if blob.memory else None
    if zset_ram and blob_ram:
        text += (
            f" Cache key in RAM (MEMORY USAGE): sorted set {fmt_kb(zset_ram)} kB, blob {fmt_kb(blob_ram)} kB."
        )
    invalid = [name for name, s in (("cached", zset), ("blob", blob)) if invalid_reason(s)]
    if invalid:
        text += f" Not valid: {', '.join(invalid)} (latencies describe the load generator, not the format)."
    return text
