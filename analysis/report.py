"""Render summary.json plus run metadata as a Markdown report that checks the seed doc's claims."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

SEED_RPS = 10_000
SEED_NAIVE_P50_US = (10_000.0, 20_000.0)
SEED_CACHED_P99_US = 1_000.0
SEED_TRAFFIC_MB_PER_S = 10.0
SEED_SCALABLE_RPS = 100_000
SEED_REFRESH_INTERVAL_S = 60
COUNT_TOLERANCE = 0.02  # a few retries or stray commands must not flip a verdict
TRAFFIC_FACTOR = 2.0
NOT_IN_RUN = "strategy not in this run"
LOOPBACK = "this machine talks to Redis over loopback (no network RTT) and the load generator is Python"
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
Strategy = dict[str, Any]


class Verdict(StrEnum):
    """Outcome of checking one seed claim against this run."""

    HOLDS = "holds"
    DOES_NOT_HOLD = "does not hold"
    NOT_MEASURABLE = "not measurable here"


@dataclass(frozen=True)
class Claim:
    """One seed claim next to what this run measured; key is the claim's letter (a-h)."""

    key: str
    claim: str
    measured: str
    projected: str
    verdict: Verdict
    reason: str


def _claim(key: str, measured: str, projected: str, holds: bool | None, reason: str) -> Claim:
    """Build a Claim; holds=None means not measurable here."""
    verdict = Verdict.NOT_MEASURABLE if holds is None else Verdict.HOLDS if holds else Verdict.DOES_NOT_HOLD
    return Claim(key, CLAIMS[key], measured, projected, verdict, reason)


def _unmeasurable(key: str, reason: str = NOT_IN_RUN) -> Claim:
    """A claim this run cannot check."""
    return _claim(key, "n/a", "n/a", None, reason)


def _num(section: Strategy | None, *keys: str) -> float | None:
    """Return a nested finite number, or None when missing, null or NaN."""
    value: Any = section
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    """Divide, giving None for missing values or a zero denominator."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def _within(value: float | None, target: float, tolerance: float = COUNT_TOLERANCE) -> bool:
    """Whether value is within a relative tolerance of target."""
    return value is not None and abs(value - target) <= tolerance * abs(target)


def fmt_count(value: float | None, decimals: int = 0) -> str:
    """Format with thousands separators; 'n/a' for missing values."""
    return "n/a" if value is None else f"{value:,.{decimals}f}"


def fmt_ms(latency_us: float | None) -> str:
    """Format a µs latency as ms with about three significant digits."""
    if latency_us is None:
        return "n/a"
    ms = latency_us / 1000.0
    decimals = 0 if ms >= 100 else 1 if ms >= 10 else 2 if ms >= 1 else 3
    return f"{ms:,.{decimals}f}"


def fmt_kb(n_bytes: float | None) -> str:
    """Format bytes as kB (1000 bytes, like the seed's MB = 1e6 bytes)."""
    return "n/a" if n_bytes is None else f"{n_bytes / 1000.0:,.1f}"


def _claim_a(naive: Strategy | None, cached: Strategy | None) -> Claim:
    """Naive absolute latency; the naive/cached ratio is the figure that carries over."""
    p50_us = _num(naive, "latency_us", "p50")
    if naive is None or p50_us is None:
        return _unmeasurable("a", NOT_IN_RUN if naive is None else "no successful requests")
    ratio = _ratio(p50_us, _num(cached, "latency_us", "p50"))
    ratio_text = "" if ratio is None else f"; naive/cached p50 ratio {ratio:.1f}x (seed: 10-20x)"
    measured = f"p50 {fmt_ms(p50_us)} ms, p99 {fmt_ms(_num(naive, 'latency_us', 'p99'))} ms{ratio_text}"
    reason = f"{LOOPBACK}, so absolute latency is not the seed's setting; compare the naive/cached ratio"
    low_us, high_us = SEED_NAIVE_P50_US
    return _claim("a", measured, "n/a (a latency)", low_us <= p50_us <= high_us, reason)


def _claim_b(cached: Strategy | None) -> Claim:
    """Cached absolute latency, judged on p99."""
    p99_us = _num(cached, "latency_us", "p99")
    if cached is None or p99_us is None:
        return _unmeasurable("b", NOT_IN_RUN if cached is None else "no successful requests")
    holds = p99_us <= SEED_CACHED_P99_US
    measured = f"p50 {fmt_ms(_num(cached, 'latency_us', 'p50'))} ms, p99 {fmt_ms(p99_us)} ms"
    reason = (
        f"p99 {'<=' if holds else '>'} 1 ms; {LOOPBACK}, so there is no network time but Python client time"
    )
    return _claim("b", measured, "n/a (a latency)", holds, reason)


def _claim_c(naive: Strategy | None, cached: Strategy | None, shards: float | None) -> Claim:
    """Naive fan-out: Redis commands per user request against the shard count."""
    cmds = _num(naive, "redis_commands_per_request")
    if naive is None or cmds is None or shards is None:
        return _unmeasurable("c", NOT_IN_RUN if naive is None else "commands/request or shard count missing")
    cached_cmds = _num(cached, "redis_commands_per_request")
    measured = f"naive {cmds:.2f} Redis commands/request" + (
        "" if cached_cmds is None else f"; cached {cached_cmds:.2f}"
    )
    holds = _within(cmds, shards)
    reason = f"{'within' if holds else 'not within'} 2% of this run's {shards:.0f} shards (seed: 10)"
    return _claim("c", measured, "same per request", holds, reason)


def _claim_d(naive: Strategy | None, shards: float | None) -> Claim:
    """Naive Redis command rate projected to the seed's request rate."""
    cmds = _num(naive, "redis_commands_per_request")
    if naive is None or cmds is None or shards is None:
        return _unmeasurable("d", NOT_IN_RUN if naive is None else "commands/request or shard count missing")
    projected_per_s, expected_per_s = cmds * SEED_RPS, shards * SEED_RPS
    rps_text = fmt_count(_num(naive, "rps"))
    measured = f"{fmt_count(_num(naive, 'redis_ops_per_s'))} Redis commands/s at {rps_text} req/s"
    reason = (
        f"{cmds:.2f} commands/request x 10,000 req/s; {shards:.0f} shards give {fmt_count(expected_per_s)}"
    )
    projected = f"{fmt_count(projected_per_s)} Redis commands/s"
    return _claim("d", measured, projected, _within(projected_per_s, expected_per_s), reason)


def _claim_e(naive: Strategy | None) -> Claim:
    """Naive Redis-to-client bytes projected to the seed's request rate."""
    bytes_out = _num(naive, "bytes_out_per_request")
    if naive is None or bytes_out is None:
        return _unmeasurable("e", NOT_IN_RUN if naive is None else "bytes_out_per_request missing")
    projected_mb_per_s = bytes_out * SEED_RPS / 1e6
    seed_kb_per_request = SEED_TRAFFIC_MB_PER_S * 1e6 / SEED_RPS / 1000.0
    holds = (
        SEED_TRAFFIC_MB_PER_S / TRAFFIC_FACTOR <= projected_mb_per_s <= SEED_TRAFFIC_MB_PER_S * TRAFFIC_FACTOR
    )
    bytes_in_text = fmt_count(_num(naive, "bytes_in_per_request"))
    measured = f"{fmt_kb(bytes_out)} kB/request out of Redis ({bytes_in_text} B/request into Redis)"
    reason = (
        f"{'within' if holds else 'outside'} a factor 2 of 10 MB/s; the seed's figure fits"
        f" ~{seed_kb_per_request:.0f} kB per request, far less than 10 replies of top-N members with scores"
    )
    return _claim("e", measured, f"{projected_mb_per_s:,.1f} MB/s", holds, reason)


def _claim_f(cached: Strategy | None) -> Claim:
    """Cached reads: one command on one node per request."""
    if cached is None:
        return _unmeasurable("f")
    cmds, nodes = _num(cached, "redis_commands_per_request"), _num(cached, "nodes_per_request")
    if cmds is None or nodes is None:
        return _unmeasurable("f", "commands/request or nodes/request missing")
    holds = _within(cmds, 1.0) and nodes == 1
    measured = f"{cmds:.2f} Redis commands/request served by {nodes:.0f} node(s)"
    reason = "needs ~1 command (within 2%) on exactly 1 node"
    return _claim("f", measured, f"{fmt_count(cmds * SEED_RPS)} Redis commands/s", holds, reason)


def _claim_g(cached: Strategy | None) -> Claim:
    """Cached throughput: measured if reached, else projected from Redis CPU per request."""
    if cached is None:
        return _unmeasurable("g")
    rps, cpu_us = _num(cached, "rps"), _num(cached, "redis_cpu_us_per_request")
    per_core_rps = _ratio(1e6, cpu_us)
    projected = "n/a" if per_core_rps is None else f"~{fmt_count(per_core_rps)} req/s per Redis core"
    if rps is not None and rps >= SEED_SCALABLE_RPS:
        return _claim("g", f"{fmt_count(rps)} req/s", projected, True, "reached 100k req/s in this run")
    headroom = (
        "no Redis CPU figure to project from"
        if per_core_rps is None or cpu_us is None
        else f"projected as 1e6 / {cpu_us:,.1f} Redis CPU µs/request (all nodes, so a pessimistic cost),"
        f" {'above' if per_core_rps >= SEED_SCALABLE_RPS else 'below'} 100k req/s on one core"
    )
    reason = f"the closed-loop Python load generator did not reach 100k req/s; {headroom}"
    return _claim("g", f"{fmt_count(rps)} req/s", projected, None, reason)


def _claim_h(naive: Strategy | None, cached: Strategy | None) -> Claim:
    """Refresher scatter-gather commands/s against naive's per-request scatter-gather."""
    if naive is None or cached is None:
        return _unmeasurable("h")
    refresher: Strategy | None = cached.get("refresher")
    refreshes, interval_s = _num(refresher, "refreshes"), _num(refresher, "interval_s")
    refresh_cmds_per_s = _ratio(_num(refresher, "commands_per_refresh"), interval_s)
    naive_cmds = _num(naive, "redis_commands_per_request")
    naive_cmds_per_s = _num(naive, "redis_ops_per_s")
    if not refreshes or refresh_cmds_per_s is None or interval_s is None or not naive_cmds_per_s:
        return _unmeasurable("h", "no completed refresh, or no naive command rate")
    max_refreshes = math.ceil((_num(cached, "duration_s") or 0.0) / interval_s) + 1  # +1: priming refresh
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


def seed_claims(summary: dict[str, Any]) -> list[Claim]:
    """Check the seed doc's quantitative claims (keys a-h) against a summary.json dict."""
    strategies: dict[str, Strategy] = summary.get("strategies") or {}
    naive, cached = strategies.get("naive"), strategies.get("cached")
    shards = _num(summary.get("scenario"), "shards")
    return [
        _claim_a(naive, cached),
        _claim_b(cached),
        _claim_c(naive, cached, shards),
        _claim_d(naive, shards),
        _claim_e(naive),
        _claim_f(cached),
        _claim_g(cached),
        _claim_h(naive, cached),
    ]


def _table(header: list[str], rows: list[list[str]], numeric: bool = True) -> str:
    """Render a Markdown table, escaping pipes; numeric tables right-align all but the first column."""
    rule = [":--"] + ["--:" if numeric else ":--"] * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _columns(specs: list[tuple[str, Callable[[Strategy], str]]], sections: dict[str, Strategy]) -> str:
    """Render one row per named section, one column per (header, formatter) spec."""
    rows = [[name, *(fmt(section) for _, fmt in specs)] for name, section in sections.items()]
    return _table(["strategy", *(header for header, _ in specs)], rows)


COMPARISON_COLUMNS: list[tuple[str, Callable[[Strategy], str]]] = [
    ("requests", lambda s: fmt_count(_num(s, "requests"))),
    ("failures", lambda s: fmt_count(_num(s, "failures"))),
    ("req/s", lambda s: fmt_count(_num(s, "rps"), 1)),
    *(
        (f"{label} (ms)", lambda s, q=q: fmt_ms(_num(s, "latency_us", q)))
        for q, label in (("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p999", "p99.9"), ("max", "max"))
    ),
    ("Redis cmds/req", lambda s: fmt_count(_num(s, "redis_commands_per_request"), 2)),
    ("bytes out/req (kB)", lambda s: fmt_kb(_num(s, "bytes_out_per_request"))),
    ("bytes in/req (B)", lambda s: fmt_count(_num(s, "bytes_in_per_request"))),
    ("client CPU µs/req", lambda s: fmt_count(_num(s, "client_cpu_us_per_request"))),
    ("Redis CPU µs/req", lambda s: fmt_count(_num(s, "redis_cpu_us_per_request"), 1)),
    ("Redis ops/s", lambda s: fmt_count(_num(s, "redis_ops_per_s"))),
    ("nodes/req", lambda s: fmt_count(_num(s, "nodes_per_request"))),
]
REFRESHER_COLUMNS: list[tuple[str, Callable[[Strategy], str]]] = [
    ("interval (s)", lambda r: fmt_count(_num(r, "interval_s"), 1)),
    ("refreshes", lambda r: fmt_count(_num(r, "refreshes"))),
    ("commands/refresh", lambda r: fmt_count(_num(r, "commands_per_refresh"), 1)),
    ("bytes out/refresh (kB)", lambda r: fmt_kb(_num(r, "bytes_out_per_refresh"))),
    ("bytes in/refresh (kB)", lambda r: fmt_kb(_num(r, "bytes_in_per_refresh"))),
    ("duration p50 (ms)", lambda r: fmt_count(_num(r, "duration_ms", "p50"), 2)),
    ("duration max (ms)", lambda r: fmt_count(_num(r, "duration_ms", "max"), 2)),
    ("commands/s", lambda r: fmt_count(_ratio(_num(r, "commands_per_refresh"), _num(r, "interval_s")), 2)),
]
HOW_TO_READ = (
    "Latencies are measured by the load generator's own µs timer (perf_counter) around each request and"
    " cover successful requests only. Redis-side figures (commands, bytes, CPU, ops/s) come from INFO deltas"
    " on every node minus the harness's own telemetry and the background refresher's traffic; per-request"
    " figures divide by attempts (requests + failures). Everything runs on one machine over loopback, so"
    " there is no network round-trip time: absolute latencies understate a networked deployment, while"
    " ratios between strategies and per-request counts carry over."
)


def _scenario_paragraph(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    """Describe the workload, server, machine and code version in one paragraph."""
    scenario: dict[str, Any] = summary.get("scenario") or {}
    keys = ("players", "shards", "duration_s", "users", "top_n", "cache_top_n", "refresh_interval_s")
    n = {key: fmt_count(_num(scenario, key)) for key in keys}
    machine: dict[str, Any] = meta.get("machine") or {}
    text = (
        f"{n['players']} players across {n['shards']} shards (data seed {scenario.get('seed', 'n/a')})."
        f" Each strategy ran for {n['duration_s']} s with {n['users']} concurrent users (closed loop),"
        f" each request asking for the top {n['top_n']}. The cache holds the top {n['cache_top_n']} and is"
        f" refreshed every {n['refresh_interval_s']} s. Server: {scenario.get('server', 'n/a')}"
        f" (provider: {scenario.get('provider', 'n/a')}). Machine: {machine.get('cpu_count', 'n/a')} CPUs,"
        f" {machine.get('cpu_model', 'unknown CPU')}, {machine.get('platform', 'unknown platform')}."
    )
    versions: dict[str, Any] = meta.get("versions") or {}
    if versions:
        text += " Versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()) + "."
    git: dict[str, Any] = meta.get("git") or {}
    if git.get("commit"):
        text += (
            f" Git commit `{str(git['commit'])[:12]}`{' (dirty working tree)' if git.get('dirty') else ''}."
        )
    return text


def render_report(summary: dict[str, Any], meta: dict[str, Any], plots: dict[str, str]) -> str:
    """Render the run as Markdown: scenario, comparison, plots, refresher and seed claims.

    Args:
        summary: summary.json as a dict (the README).
        meta: run metadata with optional keys machine, versions and git.
        plots: caption -> image file name relative to the report.
    """
    strategies: dict[str, Strategy] = summary.get("strategies") or {}
    parts = [
        f"# Leaderboard benchmark: {summary.get('run_id', 'unnamed run')}",
        f"Created {summary.get('created_utc', 'n/a')}. Strategies in run order: {', '.join(strategies)}.",
        "## Scenario",
        _scenario_paragraph(summary, meta),
        "## How to read this report",
        HOW_TO_READ,
        "## Comparison",
        "Latencies in milliseconds; per-request figures divide by attempts.",
        _columns(COMPARISON_COLUMNS, strategies),
    ]
    if plots:
        parts += ["## Plots", *(f"![{caption}]({name})\n\n*{caption}*" for caption, name in plots.items())]
    refreshers = {
        name: s["refresher"] for name, s in strategies.items() if isinstance(s.get("refresher"), dict)
    }
    if refreshers:
        parts += ["## Background refresher", _columns(REFRESHER_COLUMNS, refreshers)]
    rows = [[c.claim, c.measured, c.projected, f"**{c.verdict}**: {c.reason}"] for c in seed_claims(summary)]
    parts += [
        "## Seed claims vs measured",
        f"Claims are quoted from the seed design doc; projections scale this run's per-request figures to the"
        f" seed's {SEED_RPS:,} req/s.",
        _table(["claim (seed)", "measured here", "projected to 10k req/s", "verdict"], rows, numeric=False),
    ]
    return "\n\n".join(parts) + "\n"
