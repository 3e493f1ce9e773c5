"""The report's "Under faults" section: the strategy x fault table and the seed's verdicts under failure."""

from __future__ import annotations

from typing import Any

from analysis.fmt import fmt_count, md_table
from runfiles.summary import FaultRow, Scenario, StrategySummary, Summary
from runfiles.typed import to_json

SERVED = 0.999  # "keeps serving": at least this share of requests answered during the fault
Row = FaultRow


def _pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}%}"


def _ms(value_us: float | None) -> str:
    return "n/a" if value_us is None else f"{value_us / 1000:,.2f}"


def _window(row: Row) -> str:
    end = "phase end" if row.end_s is None else f"{row.end_s:.1f}"
    return f"{row.start_s:.1f} to {end}"


def _load(row: Row) -> str:
    before, during = row.other_nodes_ops_per_s_before, row.other_nodes_ops_per_s_during
    if before is None or during is None:
        return "n/a"
    ratio = f" (x{during / before:.1f})" if before >= 1 else ""
    return f"{before:,.0f} → {during:,.0f}{ratio}"


def _recovery(row: Row) -> str:
    if row.end_s is None:
        return "not undone in the phase"
    return "not within the phase" if row.recovery_s is None else f"{row.recovery_s:.0f}"


def _table(rows: list[Row]) -> str:
    header = [
        "strategy", "fault", "window (s)", "availability", "failed outside", "partial", "fallbacks",
        "p99 before (ms)",
        "p99 during (ms)", "max cache age (s)", "recovery (s)", "other nodes ops/s before → during",
    ]  # fmt: skip
    cells = [
        [
            str(row.strategy),
            f"`{row.fault}`",
            _window(row),
            _pct(row.availability, 2),
            f"{row.failures_outside or 0:,}",
            _pct(row.partial_share),
            f"{row.fallbacks:,}",
            _ms(row.latency_us_p99_before),
            _ms(row.latency_us_p99_during),
            fmt_count(row.cache_age_s_max, 1),
            _recovery(row),
            _load(row),
        ]
        for row in rows
    ]
    return md_table(header, cells, labels=3)


def _shard_down(row: Row) -> bool:
    return row.kind in ("stall", "kill") and str(row.target).startswith("shard-")


def _cached_verdict(rows: list[Row]) -> str | None:
    picked = [r for r in rows if r.strategy == "cached" and _shard_down(r) and r.availability is not None]
    if not picked:
        return None
    row = min(picked, key=lambda r: r.availability or 0.0)
    holds = (row.availability or 0.0) >= SERVED
    return (
        f"- **The cached path keeps serving while a shard is down: {'holds' if holds else 'does not hold'}.**"
        f" During `{row.fault}` cached answered {_pct(row.availability, 2)} of its requests"
        f" (p99 {_ms(row.latency_us_p99_during)} ms); what it served grew stale instead: cache age up"
        f" to {fmt_count(row.cache_age_s_max, 1)} s, as the refresher could not read {row.target}."
    )


def _naive_verdict(rows: list[Row], strategies: dict[str, StrategySummary], phase_s: float) -> str | None:
    picked = [r for r in rows if r.strategy == "naive" and _shard_down(r)]
    naive = strategies.get("naive")
    if not picked or naive is None:
        return None
    # Each shard's own availability over the phase: up except while a fault held it.
    down_s: dict[str, float] = {}
    for row in picked:
        end_s = row.end_s if row.end_s is not None else phase_s
        down_s[row.target] = down_s.get(row.target, 0.0) + max(0.0, end_s - row.start_s)
    product = 1.0
    for seconds in down_s.values():
        product *= max(0.0, 1.0 - seconds / phase_s) if phase_s > 0 else 1.0
    requests, failures = float(naive.requests or 0.0), float(naive.failures or 0.0)
    measured = requests / (requests + failures) if requests + failures else None
    partial = float(naive.partial or 0.0) / requests if requests else 0.0
    answered = "answered" if partial else "served"
    uptimes = ", ".join(f"{target} {1 - s / phase_s:.1%}" for target, s in down_s.items())
    close = measured is not None and abs(measured - product) <= 0.02
    return (
        f"- **Naive availability is the product of its shards': {'holds' if close else 'does not hold'}.**"
        f" Over the phase the shards were up {uptimes}"
        f" (the others 100%), a product of {product:.1%}; naive {answered} {_pct(measured)} of its requests"
        + (f", {partial:.1%} of them partial (a top n without the missing shard)." if partial else ".")
        + " Every request needs every shard, so one shard's outage is every request's."
    )


def _stampede_verdict(rows: list[Row]) -> str | None:
    picked = [r for r in rows if r.kind == "cache-down" and r.fallbacks]
    if not picked:
        return None
    row = max(picked, key=lambda r: r.fallbacks)
    before, during = row.other_nodes_ops_per_s_before, row.other_nodes_ops_per_s_during
    load = (
        ""
        if before is None or during is None
        else f": the shards went from {before:,.0f} to {during:,.0f} ops/s"
    )
    return (
        f"- **The cache down, with a fallback to the shards:** {row.strategy} answered"
        f" {_pct(row.availability, 2)} of its requests, {row.fallbacks:,} of them by scatter-gather,"
        f" each a read of every shard at once (the stampede the cache exists to prevent){load}. The cache"
        f" came back empty, so requests kept falling back until the next refresh: recovery"
        f" {_recovery(row)} s after the node returned."
    )


def _refresher_verdict(rows: list[Row]) -> str | None:
    picked = [r for r in rows if r.kind == "refresher-dead" and r.cache_age_s_max is not None]
    if not picked:
        return None
    row = picked[0]
    noticed = (
        f"the served top {'n'} first differed from the truth {row.stale_after_s:.1f} s after it died, at a"
        f" cache age of {row.cache_age_s_when_stale:.1f} s"
        if row.stale_after_s is not None
        else "the served top n never differed from the truth within the phase (scores moved too little)"
    )
    return (
        f"- **A dead refresher:** {row.strategy} kept answering ({_pct(row.availability, 2)}), from a"
        f" cache that only aged: up to {fmt_count(row.cache_age_s_max, 1)} s by the phase's end;"
        f" {noticed}."
        " Nothing in the read path notices: a reader must check the cache's age (its meta hash) itself."
    )


def faults_section(summary: Summary) -> list[str]:
    """``## Under faults``: nothing for a run without faults."""
    rows = summary.under_faults
    if not rows:
        return []
    scenario = summary.scenario or Scenario()
    policies: dict[str, Any] = to_json(scenario.failure_policies) if scenario.failure_policies else {}
    policy_text = ", ".join(f"`--{k.replace('_', '-')} {v}`" for k, v in policies.items()) or "the defaults"
    phase_s = float(scenario.duration_s or 0.0)
    strategies = summary.strategies
    verdicts = [
        v
        for v in (
            _cached_verdict(rows),
            _naive_verdict(rows, strategies, phase_s),
            _stampede_verdict(rows),
            _refresher_verdict(rows),
        )
        if v
    ]
    return [
        "## Under faults",
        "Each strategy's phase met the same faults at the same offsets from its first request"
        f" (docs/faults.md); policies in force: {policy_text}. Availability = answered / attempted"
        " requests from the fault's start to one --timeout-ms after its end (a request sent just before"
        " the end fails that much later); failed outside = failed requests anywhere else in the phase;"
        " recovery = seconds from the fault's undo until three seconds in a row fail nothing, answer"
        " nothing partially and have p99 within 2x (or +1 ms of) the p99 before it; the last column is"
        " the Redis load on every node but the faulted one.",
        _table(rows),
        *(["\n".join(verdicts)] if verdicts else []),
    ]
