"""The seed's qualitative lines (the rest of Pros, every Con, "When This Works Best", the alternatives).

Each becomes a Claim with a measured figure and a verdict, like the quantitative claims a-h in
:mod:`analysis.claims`. A line that is a condition rather than a fact ("acceptable staleness") gets
"holds only if", with the measured price of the condition.
"""

from __future__ import annotations

from analysis.figures.target import SEED
from analysis.fmt import fmt_count, fmt_kb, invalid_reason, ratio
from analysis.verdicts.capacity import OVERLOAD_CLAIM, overload_verdict, peak_verdict, why_not
from analysis.verdicts.claims import SEED_REFRESH_INTERVAL_S, SEED_RPS, latency
from analysis.verdicts.verdict import Claim, Verdict
from runfiles.summary import (
    Capacity,
    MeanMax,
    P50Max,
    Refresher,
    Spike,
    Spread,
    Staleness,
    StrategyPlan,
    StrategySummary,
    Summary,
)

SHORT_REFRESH_S = 5.0
NEGLIGIBLE_MEMORY_SHARE = 0.01
TRADEOFFS = {
    "i": 'Pros: "Simple Code: User-facing queries just read one key"',
    "j": 'Cons: "Eventual Consistency: Cache may be up to 60 seconds stale"',
    "k": 'Cons: "Background Load: Scatter-gather job creates periodic spikes"',
    "l": 'Cons: "Memory Cost: Cache duplicates top N players (usually negligible)"',
    "m": 'Cons: "Not Real-Time: Player won\'t see rank change immediately in global view"',
    "n": 'Works best: "Acceptable Staleness: Users don\'t need exact real-time global rankings"',
    "o": 'Works best: "High Read/Write Ratio: 1000:1 or higher"',
    "p": 'Works best: "Top-Heavy Queries: Users mostly care about top 100-1000, not their exact global rank"',
    "q": 'Works best: "Peak Traffic: Need to handle 10k+ requests/sec without degradation"',
    "r": 'Alternative: "Shorter refresh: 5-10 seconds (higher load, but fresher)"',
    "s": 'Alternative: "Incremental updates: Only update cache when top 1000 changes"',
    "t": 'Alternative: "Single global key: Accept RAM limit (~100M players max on one node)"',
    "u": 'Alternative: "Different data model: Show regional ranks (real-time) + global rank (cached)"',
    "v": OVERLOAD_CLAIM,
}


def _claim(key: str, measured: str, projected: str, verdict: Verdict, reason: str) -> Claim:
    return Claim(key, TRADEOFFS[key], measured, projected, verdict, reason)


def _absent(key: str, what: str) -> Claim:
    return _claim(key, "n/a", "n/a", Verdict.NOT_MEASURABLE, f"{what} not in this run")


def _holds(flag: bool) -> Verdict:
    return Verdict.HOLDS if flag else Verdict.DOES_NOT_HOLD


def _ages(stale: Staleness | None) -> MeanMax:
    return (stale.cache_age_s if stale else None) or MeanMax()


def _differ(stale: Staleness | None) -> Spread:
    return (stale.entries_differ if stale else None) or Spread()


def _displaced(stale: Staleness | None) -> MeanMax:
    return (stale.max_rank_displacement if stale else None) or MeanMax()


def _stale_text(stale: Staleness) -> str:
    return (
        f"cache age mean {fmt_count(_ages(stale).mean, 1)} s, max"
        f" {fmt_count(_ages(stale).max, 1)} s; top-n entries differing mean"
        f" {fmt_count(_differ(stale).mean, 2)},"
        f" max {fmt_count(_differ(stale).max)};"
        f" max rank displacement {fmt_count(_displaced(stale).max)}"
    )


def _simple_code(cached: StrategySummary) -> Claim:
    cmds, nodes = cached.redis_commands_per_request, cached.nodes_per_request
    holds = cmds is not None and abs(cmds - 1) <= 0.02 and nodes == 1
    measured = f"{fmt_count(cmds, 2)} command/request on {fmt_count(nodes)} node(s): one ZRANGE of one key"
    return _claim("i", measured, "same", _holds(holds), "the read path is one pre-packed command")


def _consistency(cached: StrategySummary, stale: Staleness | None) -> list[Claim]:
    interval_s = cached.refresher.interval_s if cached.refresher else None
    if stale is None or interval_s is None:
        return [_absent(k, "staleness samples") for k in ("j", "m", "n")]
    age_max = _ages(stale).max or 0.0
    # Samples are a second apart and a refresh takes milliseconds: the bound is interval + 1 s.
    bounded = age_max <= interval_s + 1.0
    j = _claim(
        "j",
        _stale_text(stale),
        f"max age = the refresh interval ({interval_s:g} s here)",
        _holds(bounded),
        f"age stays within the {interval_s:g} s interval (+1 s sampling)"
        if bounded
        else "age exceeded the interval: refreshes were late or failed",
    )
    differing = stale.share_of_samples_differing or 0.0
    displaced = _displaced(stale).max or 0.0
    score_error = stale.max_score_error or 0.0
    # Any lag at all counts: a moved rank or an old score is a change the player does not see yet.
    lagged = differing > 0 or displaced > 0 or score_error > 0
    # Not lagging proves nothing when no write reached the top n: there was no change to see late.
    m = _claim(
        "m",
        f"{differing:.0%} of samples lacked a true top-n entry; ranks off by up to {displaced:,.0f},"
        f" scores behind by up to {score_error:,.0f}",
        "grows with writes per interval",
        Verdict.HOLDS if lagged else Verdict.NOT_MEASURABLE,
        "a score change reaches the global view only at the next refresh"
        if lagged
        else "no write reached the top n between refreshes in this run, so no change could be seen"
        " late; more writes make it measurable (--read-write-ratio 100, or --hot-write-share 1 to aim"
        " every write at the top players)",
    )
    wrong, off = _differ(stale).max or 0, _displaced(stale).max or 0
    n = _claim(
        "n",
        _stale_text(stale),
        "see the refresh-interval sweep",
        Verdict.HOLDS_ONLY_IF,
        f"users accept up to {fmt_count(wrong)} wrong entries of the top n and ranks off by up to"
        f" {fmt_count(off)} for up to {age_max:,.0f} s"
        if wrong or off
        else f"users accept a view up to {age_max:,.0f} s old; in this run no entry of the top n was"
        " wrong and no rank was off in any sample",
    )
    return [j, m, n]


def _spikes(cached: StrategySummary) -> Claim:
    refresher = cached.refresher or Refresher()
    spike: Spike | None = refresher.spike
    height = spike.bytes_out_height if spike else None
    if spike is None or height is None:
        return _absent("k", "a completed refresh")
    measured = (
        f"a refresh sends {fmt_kb(refresher.bytes_out_per_refresh)} kB in"
        f" {fmt_count((refresher.duration_ms or P50Max()).p50, 1)} ms: {height:,.1f}x the steady read bytes/s"
        f" ({fmt_count(spike.commands_height, 3)}x the commands/s)"
    )
    average = ratio(refresher.bytes_out_per_refresh, refresher.interval_s)
    projected = f"{fmt_kb(average)} kB/s averaged over the interval, whatever the read rate"
    return _claim(
        "k", measured, projected, _holds(height > 1), "a burst of bytes, short and rare; see ops_per_node.png"
    )


def _memory(cached: StrategySummary, players: int | None) -> Claim:
    """Judged at the seed's 100M players: the shards grow with the players, the cache key does not."""
    memory = cached.memory
    share = memory.cache_vs_shards if memory else None
    if memory is None or share is None:
        return _absent("l", "key memory figures")
    cache_bytes, per_player = memory.cache_key_bytes, memory.bytes_per_player
    here = f" ({players:,} players)" if players else ""
    measured = f"cache key {fmt_kb(cache_bytes)} kB = {share:.3%} of the shards' keys here{here}"
    if not cache_bytes or not per_player:
        return _claim(
            "l", measured, "n/a", Verdict.NOT_MEASURABLE, "no cache key or bytes per player measured"
        )
    seed_shards_bytes = per_player * SEED.players
    at_seed = cache_bytes / seed_shards_bytes
    small = at_seed < NEGLIGIBLE_MEMORY_SHARE
    return _claim(
        "l",
        measured,
        f"{share:.3%} here; at {SEED.players:,} players, {fmt_count(per_player, 1)} B per player makes"
        f" {seed_shards_bytes / 1e9:,.1f} GB of shards and the cache {at_seed:.4%}",
        _holds(small),
        f"judged at the seed's scale from the bytes per player measured here: {at_seed:.4%} of the"
        f" shards, {'under' if small else 'over'} 1% (the cache is a fixed top 1000; the shards grow"
        " with the players)",
    )


def _ratio_line(cached: StrategySummary, stale: Staleness | None) -> Claim:
    writes = cached.writes
    every = writes.read_write_ratio if writes else None
    if writes is None or every is None:
        return _absent("o", "background writes")
    stale_text = ""
    if stale is not None:
        stale_text = f"; mean {fmt_count(_differ(stale).mean, 2)} top-n entries differ"
    cmds = fmt_count(cached.redis_commands_per_request, 2)
    measured = f"cached read cost {cmds} command/request at {every:,.0f}:1{stale_text}"
    return _claim(
        "o",
        measured,
        "read cost independent of writes",
        Verdict.HOLDS_ONLY_IF,
        "writes that reach the top n are rare between refreshes: the read cost does not depend"
        " on the ratio, staleness does (sweep read-write-ratio)",
    )


def _top_heavy(
    naive: StrategySummary | None, regional: StrategySummary | None, shards: float | None
) -> Claim:
    rank = naive.rank if naive else None
    per_rank = rank.commands_per_query if rank else None
    if per_rank is None and shards is not None:
        per_rank = 1 + shards  # ZSCORE on the player's shard + ZCOUNT on every shard
    if per_rank is None:
        return _absent("p", "rank figures")
    measured = (
        f"an exact own-rank costs {per_rank:,.0f} commands on every shard; the top list cannot answer it"
    )
    approx = regional.rank if regional else None
    if approx is not None:
        measured += (
            f"; from the cache's score histogram: {fmt_count(approx.commands_per_query)} commands,"
            f" rank error p50 {fmt_count(approx.rank_error_abs_p50)},"
            f" p99 {fmt_count(approx.rank_error_abs_p99)} ranks"
        )
    return _claim(
        "p",
        measured,
        f"{fmt_count(per_rank * SEED_RPS)} commands/s if every page view asked exactly",
        Verdict.HOLDS_ONLY_IF,
        "own-rank lookups are rare or approximate: an exact one is a scatter-gather again",
    )


def _peak(cached: StrategySummary, scale: StrategyPlan | None, capacity: Capacity | None) -> Claim:
    rps = cached.rps or 0.0
    valid = invalid_reason(cached) is None
    cores = scale.redis_cores if scale else None
    projected = "n/a" if cores is None else f"{cores:,.2f} Redis cores at 10k req/s (the scale model)"
    if valid and rps >= SEED_RPS:
        return _claim(
            "q", f"{fmt_count(rps)} req/s valid", projected, Verdict.HOLDS, "measured at 10k+ req/s"
        )
    here = f"the Python generator ran {fmt_count(rps)} req/s ({'valid' if valid else 'not valid'})"
    found = peak_verdict(capacity, SEED_RPS, here)
    if found is not None:
        return _claim("q", found[0], projected, *found[2:])
    why = why_not(capacity, "zset")
    return _claim(
        "q",
        f"{fmt_count(rps)} req/s {'valid' if valid else 'not valid'} in this run",
        projected,
        Verdict.NOT_MEASURABLE,
        f"this run stayed below 10k req/s and has no per-node capacity ({why}); run with --rps 10000"
        " --workers 2 (docs/methodology.md) or where redis-benchmark is installed (docs/capacity.md)",
    )


def _short_refresh(cached: StrategySummary, naive: StrategySummary | None) -> Claim:
    refresher = cached.refresher or Refresher()
    cmds = refresher.commands_per_refresh
    if cmds is None:
        return _absent("r", "a completed refresh")
    per_s = cmds / SHORT_REFRESH_S
    bytes_per_s = (refresher.bytes_out_per_refresh or 0.0) / SHORT_REFRESH_S
    naive_per_s = ((naive.redis_commands_per_request if naive else None) or 0.0) * SEED_RPS
    measured = f"one refresh = {cmds:,.0f} commands, {fmt_kb(refresher.bytes_out_per_refresh)} kB"
    projected = f"every {SHORT_REFRESH_S:g} s: {per_s:,.1f} commands/s, {fmt_kb(bytes_per_s)} kB/s"
    times = SEED_REFRESH_INTERVAL_S / SHORT_REFRESH_S
    reason = f"{times:g}x the load of a {SEED_REFRESH_INTERVAL_S} s refresh and still a rounding error"
    if naive_per_s:
        reason += f" next to naive's {fmt_count(naive_per_s)} commands/s at 10k req/s"
    return _claim("r", measured, projected, Verdict.HOLDS, reason)


def _incremental(strategies: dict[str, StrategySummary]) -> Claim:
    inc, cached = strategies.get("incremental"), strategies.get("cached")
    inc_stale = inc.staleness if inc else None
    if inc is None or inc_stale is None:
        return _absent("s", "the incremental strategy")
    cached_stale = cached.staleness if cached else None
    inc_mean = _differ(inc_stale).mean or 0.0
    cached_mean = _differ(cached_stale).mean
    per_write = inc.writes.commands_per_write if inc.writes else None
    measured = (
        f"entries differing mean {inc_mean:,.2f}"
        + ("" if cached_mean is None else f" vs cached {cached_mean:,.2f}")
        + f"; {fmt_count(per_write, 2)} commands per write"
    )
    fresher = cached_mean is None or inc_mean <= cached_mean
    return _claim(
        "s",
        measured,
        "write cost x writes/s",
        _holds(fresher),
        "patching on write keeps the top fresh at a few commands per write; falling scores wait for the"
        " full refresh (bench/strategies/incremental.py)",
    )


def _global_key(strategies: dict[str, StrategySummary], scale: dict[str, StrategyPlan]) -> Claim:
    global_scale = scale.get("global")
    ram_gb = global_scale.cache_node_ram_gb if global_scale else None
    if "global" not in strategies or ram_gb is None:
        return _absent("t", "the global strategy")
    memory = strategies["global"].memory
    set_bytes = memory.by_label.get("global_set_bytes") if memory else None
    measured = f"global set {fmt_count((set_bytes or 0) / 1e6, 1)} MB here"
    return _claim(
        "t",
        measured,
        f"{ram_gb:,.1f} GB on one node for 100M players",
        Verdict.HOLDS_ONLY_IF,
        f"one node has ~{ram_gb:,.0f} GB for the set alone and takes every write",
    )


def _regional(regional: StrategySummary | None) -> Claim:
    if regional is None:
        return _absent("u", "the regional strategy")
    cmds, nodes = regional.redis_commands_per_request, regional.nodes_per_request
    p50_ms = fmt_count((latency(regional).p50 or 0) / 1000, 2)
    measured = f"{fmt_count(cmds, 2)} commands/request (regional top + cached global), p50 {p50_ms} ms"
    holds = cmds is not None and abs(cmds - 2) <= 0.05
    return _claim(
        "u",
        measured,
        f"{fmt_count((cmds or 0) * SEED_RPS)} commands/s, spread over {fmt_count(nodes)} nodes",
        _holds(holds),
        "two single-node reads, never a scatter-gather; the regional part is live",
    )


def tradeoff_claims(summary: Summary) -> list[Claim]:
    """Verdicts for the seed's qualitative lines (keys i-v)."""
    strategies = summary.strategies
    cached, naive = strategies.get("cached"), strategies.get("naive")
    scale = (summary.scale_model.strategies if summary.scale_model else None) or {}
    shards = summary.scenario.shards if summary.scenario else None
    if cached is None:
        cached_claims = [_absent(k, "the cached strategy") for k in "ijklmnoqr"]
    else:
        stale = cached.staleness
        j, m, n = _consistency(cached, stale)
        cached_claims = [
            _simple_code(cached),
            j,
            _spikes(cached),
            _memory(cached, summary.scenario.players if summary.scenario else None),
            m,
            n,
            _ratio_line(cached, stale),
            _peak(cached, scale.get("cached"), summary.capacity),
            _short_refresh(cached, naive),
        ]
    claims = [*cached_claims, _top_heavy(naive, strategies.get("regional"), shards), _incremental(strategies)]
    claims += [_global_key(strategies, scale), _regional(strategies.get("regional"))]
    claims.append(Claim("v", TRADEOFFS["v"], *overload_verdict(summary.capacity, SEED_RPS)))
    return sorted(claims, key=lambda c: c.key)
