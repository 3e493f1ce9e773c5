"""Render summary.json plus run metadata as a Markdown report that checks the seed doc's claims."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from analysis.claims import SEED_RPS, cache_format_comparison, seed_claims
from analysis.fmt import Strategy, fmt_count, fmt_kb, fmt_ms, invalid_reason, num, ratio
from analysis.rank import RANK_COLUMNS, RANK_TEXT
from analysis.tradeoffs import tradeoff_claims

Column = tuple[str, Callable[[Strategy], str]]


def _table(header: list[str], rows: list[list[str]], numeric: bool = True) -> str:
    """Render a Markdown table, escaping pipes; numeric tables right-align all but the first column."""
    rule = [":--"] + ["--:" if numeric else ":--"] * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _columns(specs: list[Column], sections: dict[str, Strategy]) -> str:
    """Render one row per named section, one column per (header, formatter) spec."""
    rows = [[name, *(fmt(section) for _, fmt in specs)] for name, section in sections.items()]
    return _table(["strategy", *(header for header, _ in specs)], rows)


def _valid_cell(section: Strategy) -> str:
    """yes/no from the saturation guard."""
    if "valid" not in section:
        return "n/a"  # summaries before the saturation guard
    return "no" if invalid_reason(section) else "yes"


def _ratio_cell(value: float | None) -> str:
    """A Redis/client ratio to four decimals."""
    return "n/a" if value is None else f"{value:.4f}"


COMPARISON_COLUMNS: list[Column] = [
    ("valid", _valid_cell),
    ("requests", lambda s: fmt_count(num(s, "requests"))),
    ("failures", lambda s: fmt_count(num(s, "failures"))),
    ("target req/s", lambda s: fmt_count(num(s, "target_rps"), 1) if num(s, "target_rps") else "none"),
    ("req/s", lambda s: fmt_count(num(s, "rps"), 1)),
    *(
        (f"{label} (ms)", lambda s, q=q: fmt_ms(num(s, "latency_us", q)))
        for q, label in (("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p999", "p99.9"), ("max", "max"))
    ),
    ("raw p99 (ms)", lambda s: fmt_ms(num(s, "latency_us_raw", "p99"))),
    ("lag p99 (ms)", lambda s: fmt_ms(num(s, "schedule_lag_us", "p99"))),
    ("Redis cmds/req", lambda s: fmt_count(num(s, "redis_commands_per_request"), 2)),
    ("bytes out/req (kB)", lambda s: fmt_kb(num(s, "bytes_out_per_request"))),
    ("bytes in/req (B)", lambda s: fmt_count(num(s, "bytes_in_per_request"))),
    ("client CPU µs/req", lambda s: fmt_count(num(s, "client_cpu_us_per_request"))),
    ("generator CPU max %", lambda s: fmt_count(num(s, "loadgen_cpu_percent", "max"), 1)),
    ("Redis CPU µs/req", lambda s: fmt_count(num(s, "redis_cpu_us_per_request"), 1)),
    ("Redis ops/s", lambda s: fmt_count(num(s, "redis_ops_per_s"))),
    ("nodes/req", lambda s: fmt_count(num(s, "nodes_per_request"))),
]
CROSS_CHECK_COLUMNS: list[Column] = [
    ("client cmds/req", lambda s: fmt_count(num(s, "client_commands_per_request"), 3)),
    ("Redis cmds/req", lambda s: fmt_count(num(s, "redis_commands_per_request"), 3)),
    ("cmds ratio", lambda s: _ratio_cell(num(s, "cross_check", "commands"))),
    ("client bytes out/req", lambda s: fmt_count(num(s, "client_bytes_out_per_request"))),
    ("Redis bytes out/req", lambda s: fmt_count(num(s, "bytes_out_per_request"))),
    ("bytes out ratio", lambda s: _ratio_cell(num(s, "cross_check", "bytes_out"))),
    ("client bytes in/req", lambda s: fmt_count(num(s, "client_bytes_in_per_request"))),
    ("Redis bytes in/req", lambda s: fmt_count(num(s, "bytes_in_per_request"))),
    ("bytes in ratio", lambda s: _ratio_cell(num(s, "cross_check", "bytes_in"))),
    ("agree", lambda s: "yes" if (s.get("cross_check") or {}).get("agree") else "no"),
]
REFRESHER_COLUMNS: list[Column] = [
    ("interval (s)", lambda r: fmt_count(num(r, "interval_s"), 1)),
    ("refreshes", lambda r: fmt_count(num(r, "refreshes"))),
    ("commands/refresh", lambda r: fmt_count(num(r, "commands_per_refresh"), 1)),
    ("bytes out/refresh (kB)", lambda r: fmt_kb(num(r, "bytes_out_per_refresh"))),
    ("bytes in/refresh (kB)", lambda r: fmt_kb(num(r, "bytes_in_per_refresh"))),
    ("duration p50 (ms)", lambda r: fmt_count(num(r, "duration_ms", "p50"), 2)),
    ("duration max (ms)", lambda r: fmt_count(num(r, "duration_ms", "max"), 2)),
    ("commands/s", lambda r: fmt_count(ratio(num(r, "commands_per_refresh"), num(r, "interval_s")), 2)),
]
STALENESS_REPORT_COLUMNS: list[Column] = [
    ("samples", lambda t: fmt_count(num(t, "samples"))),
    ("cache age mean (s)", lambda t: fmt_count(num(t, "cache_age_s", "mean"), 1)),
    ("cache age max (s)", lambda t: fmt_count(num(t, "cache_age_s", "max"), 1)),
    ("top-n entries differing: mean", lambda t: fmt_count(num(t, "entries_differ", "mean"), 2)),
    ("p95", lambda t: fmt_count(num(t, "entries_differ", "p95"), 1)),
    ("max", lambda t: fmt_count(num(t, "entries_differ", "max"))),
    ("samples differing", lambda t: f"{num(t, 'share_of_samples_differing') or 0:.0%}"),
    ("max rank displacement", lambda t: fmt_count(num(t, "max_rank_displacement", "max"))),
    ("missing from cache (max)", lambda t: fmt_count(num(t, "missing_from_cache_max"))),
]
MEMORY_COLUMNS: list[Column] = [
    ("shard keys (MB)", lambda m: fmt_count(ratio(num(m, "shard_key_bytes"), 1e6), 1)),
    ("bytes/player", lambda m: fmt_count(num(m, "bytes_per_player"), 1)),
    ("cache key (kB)", lambda m: fmt_kb(num(m, "cache_key_bytes"))),
    ("cache / shards", lambda m: f"{(num(m, 'cache_vs_shards') or 0):.4%}"),
    ("global set (MB)", lambda m: fmt_count(ratio(num(m, "global_set_bytes"), 1e6), 1)),
]
SCALE_COLUMNS: list[Column] = [
    ("Redis queries/s", lambda p: fmt_count(num(p, "redis_queries_per_s"))),
    ("network MB/s", lambda p: fmt_count(num(p, "network_mb_per_s"), 1)),
    ("Redis cores (command time)", lambda p: fmt_count(num(p, "redis_cores_command_time"), 2)),
    ("Redis cores (process CPU)", lambda p: fmt_count(num(p, "redis_cores_process_cpu"), 2)),
    ("app cores (Python)", lambda p: fmt_count(num(p, "app_cores"), 2)),
    ("RAM per shard (GB)", lambda p: fmt_count(num(p, "ram_per_shard_gb"), 2)),
    ("global set node RAM (GB)", lambda p: fmt_count(num(p, "global_node_ram_gb"), 2)),
]
SCALE_ASSUMPTIONS = (
    "Per-request costs measured in this run, multiplied out to the seed's scenario: {players} players on"
    " {shards} shards, {reads} top-100 reads/s, one write per {ratio} reads, plus the refresher's"
    " commands and bytes per second. Redis CPU has two bounds: time inside commands (commandstats, a"
    " lower bound without socket I/O) and the server processes' CPU (an upper bound that includes idle"
    " nodes' housekeeping). Application cores are this Python load generator's CPU per request; a"
    " compiled client needs less. Assumed: per-request costs do not grow with players (sorted-set reads"
    " are O(log N + n)) or with rate (the model projects work, not latency or queueing); reads spread"
    " evenly over the nodes that serve them; network round trips, absent on loopback, add latency but no"
    " work. RAM: bytes per player from MEMORY USAGE x players / shards."
)
HOW_TO_READ = (
    "Latencies come from the load generator's µs HDR histograms (3 significant digits, one per worker and"
    " second, merged exactly) and cover successful requests only. *Corrected* latency runs from the moment"
    " a request was scheduled to its completion, so time a request spent waiting for the generator counts;"
    " *raw* latency runs from the actual send (the two are equal in closed loop); *schedule lag* is the"
    " gap between scheduled and actual send. Percentile columns are corrected. A strategy is *valid* only"
    " if, in open loop, it achieved at least 95% of the target rate with a schedule-lag p99 under the limit,"
    " and no load-generator process exceeded the CPU limit: otherwise its latencies describe the generator,"
    " not Redis. Redis-side figures (commands, bytes, CPU, ops/s) come from INFO deltas on every node minus"
    " the harness's own telemetry, the background refresher's and the background writer's traffic;"
    " per-request figures divide by attempts (requests + failures). Everything runs on one machine over"
    " loopback, so there is no network round-trip time: absolute latencies understate a networked"
    " deployment, while ratios between strategies and per-request counts carry over."
)


def _load_text(strategies: dict[str, Strategy], users: str) -> str:
    """How load was applied, from the first strategy's mode, target and worker count."""
    first: Strategy = next(iter(strategies.values()), {})
    workers = num(first, "workers")
    by = f" from {workers:.0f} load-generator processes" if workers and workers > 1 else ""
    target_rps = num(first, "target_rps")
    if first.get("mode") == "open" and target_rps:
        return f"{users} users pacing an open-loop schedule of {fmt_count(target_rps)} req/s{by}"
    return f"{users} concurrent users (closed loop){by}"


def _scenario_paragraph(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    """Describe the workload, server, machine and code version in one paragraph."""
    scenario: dict[str, Any] = summary.get("scenario") or {}
    keys = ("players", "shards", "duration_s", "users", "top_n", "cache_top_n", "refresh_interval_s")
    n = {key: fmt_count(num(scenario, key)) for key in keys}
    machine: dict[str, Any] = meta.get("machine") or {}
    load = _load_text(summary.get("strategies") or {}, n["users"])
    text = (
        f"{n['players']} players across {n['shards']} shards (data seed {scenario.get('seed', 'n/a')})."
        f" Each strategy ran for {n['duration_s']} s with {load},"
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


def warning_banner(strategies: dict[str, Strategy]) -> list[str]:
    """One Markdown blockquote per strategy the saturation guard marked invalid (none when all valid)."""
    banners = []
    for name, section in strategies.items():
        reason = invalid_reason(section)
        if reason is None:
            continue
        consequence = (
            "nothing was measured"
            if not num(section, "requests")
            else "the load generator, not Redis, was the limit; its latencies describe the generator and"
            " the seed claims judged on them are marked not measurable. Re-run with a lower target rate"
            " or more load-generator processes"
        )
        banners.append(f"> **Warning: results not valid for {name}**: {reason} — {consequence}.")
    return banners


def _writes_line(name: str, section: Strategy) -> str:
    """One bullet on the background writer of a strategy."""
    writes: Strategy | None = section.get("writes")
    if not isinstance(writes, dict):
        return f"- **{name}**: background writer off."
    every = num(writes, "read_write_ratio")
    return (
        f"- **{name}**: {fmt_count(num(writes, 'requests'))} ZINCRBYs ({fmt_count(num(writes, 'failures'))}"
        f" failed), one per {fmt_count(every)} reads; latency p50 {fmt_ms(num(writes, 'latency_us', 'p50'))}"
        f" ms, p99 {fmt_ms(num(writes, 'latency_us', 'p99'))} ms, max"
        f" {fmt_ms(num(writes, 'latency_us', 'max'))} ms."
    )


def render_report(summary: dict[str, Any], meta: dict[str, Any], plots: dict[str, str]) -> str:
    """Render the run as Markdown: warnings, scenario, comparison, cross-validation, plots, claims.

    Args:
        summary: summary.json as a dict (the README).
        meta: run metadata with optional keys machine, versions and git.
        plots: caption -> image file name relative to the report.
    """
    strategies: dict[str, Strategy] = summary.get("strategies") or {}
    parts = [
        f"# Leaderboard benchmark: {summary.get('run_id', 'unnamed run')}",
        *warning_banner(strategies),
        f"Created {summary.get('created_utc', 'n/a')}. Strategies in run order: {', '.join(strategies)}.",
        "## Scenario",
        _scenario_paragraph(summary, meta),
        "## How to read this report",
        HOW_TO_READ,
        "## Comparison",
        "Latencies in milliseconds (corrected unless marked raw or lag); per-request figures divide by"
        " attempts.",
        _columns(COMPARISON_COLUMNS, strategies),
    ]
    if any("cross_check" in s for s in strategies.values()):
        parts += [
            "## Cross-validation",
            "The same traffic counted twice: by the load generator on its own sockets (reads only) and by"
            " Redis's INFO counters (writer traffic subtracted). Per request; ratios are Redis/client and"
            " agree when all three are within 1%.",
            _columns(CROSS_CHECK_COLUMNS, strategies),
        ]
    if any("writes" in s for s in strategies.values()):
        parts += ["## Writes", "\n".join(_writes_line(name, s) for name, s in strategies.items())]
    if plots:
        parts += ["## Plots", *(f"![{caption}]({name})\n\n*{caption}*" for caption, name in plots.items())]
    refreshers = {
        name: s["refresher"] for name, s in strategies.items() if isinstance(s.get("refresher"), dict)
    }
    if refreshers:
        parts += ["## Background refresher", _columns(REFRESHER_COLUMNS, refreshers)]
    stale = {name: s["staleness"] for name, s in strategies.items() if isinstance(s.get("staleness"), dict)}
    if stale:
        live = [name for name in strategies if name not in stale]
        parts += [
            "## Staleness",
            "Once a second during the load, the true top n (scatter-gathered from the shards) against each"
            " cached view's top n: how many true entries the view lacks, the largest rank displacement of"
            " entries in both, and the age of the last full refresh."
            + (f" Not sampled (live data, fresh by construction): {', '.join(live)}." if live else ""),
            _columns(STALENESS_REPORT_COLUMNS, stale),
        ]
    memory = {name: s["memory"] for name, s in strategies.items() if isinstance(s.get("memory"), dict)}
    if memory:
        parts += [
            "## Memory",
            "`MEMORY USAGE` of each key after the strategy's run: the shards' leaderboards, the cached top"
            " list and, where seeded, the single global sorted set.",
            _columns(MEMORY_COLUMNS, memory),
        ]
    scale: dict[str, Any] = summary.get("scale_model") or {}
    if scale.get("strategies"):
        scenario = {k: fmt_count(num(scale.get("scenario"), k)) for k in ("players", "shards", "reads_per_s")}
        parts += [
            "## Scale model: the seed's scenario",
            SCALE_ASSUMPTIONS.format(
                players=scenario["players"],
                shards=scenario["shards"],
                reads=scenario["reads_per_s"],
                ratio=fmt_count(num(scale.get("scenario"), "read_write_ratio")),
            ),
            _columns(SCALE_COLUMNS, scale["strategies"]),
        ]
    formats = cache_format_comparison(summary)
    if formats:
        parts += ["## Cache format: sorted set vs blob", formats]
    ranks = {name: s["rank"] for name, s in strategies.items() if isinstance(s.get("rank"), dict)}
    if ranks:
        parts += ["## A player's global rank", RANK_TEXT, _columns(RANK_COLUMNS, ranks)]
    claims = [*seed_claims(summary), *tradeoff_claims(summary)]
    rows = [[c.claim, c.measured, c.projected, f"**{c.verdict}**: {c.reason}"] for c in claims]
    parts += [
        "## Seed claims vs measured",
        f"Claims are quoted from the seed design doc; projections scale this run's per-request figures to the"
        f" seed's {SEED_RPS:,} req/s.",
        _table(["claim (seed)", "measured here", "projected to 10k req/s", "verdict"], rows, numeric=False),
    ]
    return "\n\n".join(parts) + "\n"
