"""Render summary.json plus run metadata as a Markdown report that checks the seed doc's claims."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from analysis import metrics
from analysis.figures.tlscost import tls_cost
from analysis.figures.userpool import growth_line
from analysis.fmt import fmt_count, fmt_ms, invalid_reason, md_table
from analysis.render.capacity import capacity_report
from analysis.render.cluster import cluster_section
from analysis.render.faultreport import faults_section
from analysis.render.network import network_section
from analysis.render.plan import assumptions_table, plan_table
from analysis.verdicts.claims import SEED_RPS, cache_format_comparison, seed_claims
from analysis.verdicts.tradeoffs import tradeoff_claims
from runfiles.summary import (
    Containers,
    Percentiles,
    Scenario,
    StrategySummary,
    Summary,
    UsersExhausted,
)
from runfiles.typed import to_json

Column = tuple[str, Callable[[Any], str]]


_table = md_table


def _columns(specs: list[Column], sections: dict[str, Any]) -> str:
    """Render one row per named section, one column per (header, formatter) spec."""
    rows = [[name, *(fmt(section) for _, fmt in specs)] for name, section in sections.items()]
    return _table(["strategy", *(header for header, _ in specs)], rows)


# Columns of the strategy tables, from the metric table (analysis/metrics/table.py).
COMPARISON_COLUMNS: list[Column] = metrics.columns(metrics.COMPARISON)
CROSS_CHECK_COLUMNS: list[Column] = metrics.columns(metrics.CROSS_CHECK)
REFRESHER_COLUMNS: list[Column] = metrics.columns(metrics.REFRESHER)
STALENESS_REPORT_COLUMNS: list[Column] = metrics.columns(metrics.STALENESS)
MEMORY_COLUMNS: list[Column] = metrics.columns(metrics.MEMORY)
WRITES_SINCE_SCHEMA = 2  # summaries before it have no writes entry at all
SCALE_TEXT = (
    "This run's costs projected to the seed's scenario, the default target of `lbbench plan`:"
    " {players} players on {shards} shards, {reads} top-{top_n} reads/s, one write per {ratio} reads, a"
    " top-{entries} cache refreshed every {interval:g} s, p99 <= {slo:g} ms on the {network} network."
    " The model is docs/planning.md's. From one run at one rate, the fixed part of the CPU is what the"
    " idle nodes and the idle generator used; `lbbench plan` measures at two rates, and its validation"
    " (docs/planning.md) says which of these columns held on runs the model did not see."
)
CROSS_CHECK_TEXT = (
    "The same traffic counted twice: by the load generator on its own sockets (reads only) and by"
    " Redis's INFO counters (writer traffic subtracted). Per request; ratios are Redis/client and"
    " agree when all three are within 1%."
)
STALENESS_TEXT = (
    "Once a second during the load, the true top n (scatter-gathered from the shards) against each"
    " cached view's top n: how many true entries the view lacks, the largest rank displacement of"
    " entries in both, and the age of the last full refresh."
)
MEMORY_TEXT = (
    "`MEMORY USAGE` of each key after the strategy's run: the shards' leaderboards, the cached top"
    " list and, where seeded, the single global sorted set."
)
HOW_TO_READ = (
    "Latencies come from the load generator's µs HDR histograms (3 significant digits, one per worker and"
    " second, merged exactly) and cover successful requests only. *Corrected* latency runs from the moment"
    " a request was scheduled to its completion, so time a request spent waiting for the generator counts;"
    " *raw* latency runs from the actual send (the two are equal in closed loop); *schedule lag* is the"
    " gap between scheduled and actual send. Schedule lag has two causes: every user busy with earlier"
    " requests (the in-flight limit `--users` reached: the system was slow, and corrected latency carries the"
    " wait), and the *generator's own lag*, a free user that could not send on time. A strategy is *valid*"
    " only if, in open loop, it achieved at least 95% of the target rate with a generator-lag p99 under the"
    " limit, and no load-generator process exceeded the CPU limit: otherwise its latencies describe the"
    " generator, not Redis. Redis-side figures (commands, bytes, CPU, ops/s) come from INFO deltas on every"
    " node minus the harness's own telemetry, the background refresher's and the background writer's traffic;"
    " per-request figures divide by attempts (requests + failures). Where harness and servers share one"
    " machine (loopback, or containers on a local bridge), there is no network round-trip time: absolute"
    " latencies understate a networked deployment, while ratios between strategies and per-request"
    " counts carry over."
)


def _load_text(strategies: dict[str, StrategySummary], users: str) -> str:
    """How load was applied, from the first strategy's mode, target and worker count."""
    first = next(iter(strategies.values()), StrategySummary())
    workers = first.workers
    by = f" from {workers:.0f} load-generator processes" if workers and workers > 1 else ""
    target_rps = first.target_rps
    if first.mode == "open" and target_rps:
        pool = first.user_pool
        limit = pool.max if pool is not None and (pool.max or 0) > (pool.start or 0) else None
        users = f"{users} users (a pool that may grow to {fmt_count(limit)})" if limit else f"{users} users"
        return f"{users} pacing an open-loop schedule of {fmt_count(target_rps)} req/s{by}"
    return f"{users} concurrent users (closed loop){by}"


def _failure_sentences(summary: Summary) -> str:
    """The failure policies in force, then the failed reads by kind where there were any."""
    given = summary.scenario.failure_policies if summary.scenario else None
    policies: dict[str, Any] = to_json(given) if given else {}
    text = ""
    if any(policies.values()):
        named = ", ".join(f"--{key.replace('_', '-')} {value}" for key, value in policies.items())
        text += f" Failure policies: {named} (docs/failure-policies.md)."
    failed = [
        f"{name} {kind} {fmt_count(counts.count)} (peak {fmt_count(counts.peak_per_s)}/s)"
        for name, entry in summary.strategies.items()
        for kind, counts in (entry.failures_by_kind or {}).items()
    ]
    if failed:
        text += f" Failed reads by kind: {', '.join(failed)}."
    return text


def _or_na(value: object) -> object:
    return "n/a" if value is None else value


def _scenario_paragraph(summary: Summary, meta: dict[str, Any]) -> str:
    """Describe the workload, server, machine and code version in one paragraph."""
    scenario = summary.scenario or Scenario()
    figures = (
        scenario.players,
        scenario.shards,
        scenario.duration_s,
        scenario.users,
        scenario.top_n,
        scenario.cache_top_n,
        scenario.refresh_interval_s,
    )
    players, shards, duration_s, users, top_n, cache_top_n, refresh_interval_s = map(fmt_count, figures)
    machine: dict[str, Any] = meta.get("machine") or {}
    load = _load_text(summary.strategies, users)
    text = (
        f"{players} players across {shards} shards (data seed {_or_na(scenario.seed)})."
        f" Each strategy ran for {duration_s} s with {load},"
        f" each request asking for the top {top_n}. The cache holds the top {cache_top_n} and is"
        f" refreshed every {refresh_interval_s} s. Server: {_or_na(scenario.server)}"
        f" (provider: {_or_na(scenario.provider)}). Machine: {machine.get('cpu_count', 'n/a')} CPUs,"
        f" {machine.get('cpu_model', 'unknown CPU')}, {machine.get('platform', 'unknown platform')}."
    )
    text += _failure_sentences(summary)
    slowed_us = (meta.get("options") or {}).get("read_extra_cpu_us")
    if slowed_us:
        text += (
            f" **Every read was slowed on purpose** by {fmt_count(slowed_us)} µs of busy CPU"
            " (--read-extra-cpu-us): these figures are not the system's own."
        )
    containers = summary.scenario.containers if summary.scenario else None
    if containers:
        text += " " + _containers_sentence(containers)
        relay = {name: s.relay_cpu_us_per_request for name, s in summary.strategies.items()}
        if any(value is not None for value in relay.values()):
            per = ", ".join(f"{name} {fmt_count(value, 1)} µs" for name, value in relay.items())
            text += f" docker-proxy CPU per request: {per}."
    versions: dict[str, Any] = meta.get("versions") or {}
    if versions:
        text += " Versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()) + "."
    git: dict[str, Any] = meta.get("git") or {}
    if git.get("commit"):
        text += (
            f" Git commit `{str(git['commit'])[:12]}`{' (dirty working tree)' if git.get('dirty') else ''}."
        )
    return text


def _containers_sentence(containers: Containers) -> str:
    """Which image, which networking and which limits the server containers ran with."""
    limits: dict[str, Any] = containers.shard_limits or {}
    limit_text = ", ".join(f"{key} {value}" for key, value in limits.items() if value is not None)
    proxy = containers.userland_proxy
    hop = (
        "userland proxy unknown"
        if proxy is None
        else "through docker-proxy"
        if proxy
        else "no userland proxy"
    )
    return (
        f"Containers: image `{containers.image}` ({containers.image_source},"
        f" `{str(containers.image_id)[:19]}`), {containers.network_mode} network"
        f" ({hop}), Docker Engine {containers.engine_version},"
        f" per-shard limits: {limit_text or 'none'}."
    )


def warning_banner(strategies: dict[str, StrategySummary]) -> list[str]:
    """One Markdown blockquote per strategy the saturation guard marked invalid (none when all valid)."""
    banners = []
    for name, section in strategies.items():
        reason = invalid_reason(section)
        if reason is None:
            continue
        consequence = (
            "nothing was measured"
            if not section.requests
            else "the load generator, not Redis, was the limit; its latencies describe the generator and"
            " the seed claims judged on them are marked not measurable. Re-run with a lower target rate"
            " or more load-generator processes"
        )
        banners.append(f"> **Warning: results not valid for {name}**: {reason} — {consequence}.")
    return banners


def _exhausted_section(strategies: dict[str, StrategySummary]) -> list[str]:
    """When every user was busy: the schedule lag that was the system's, not the generator's."""
    lines = [line for name, s in strategies.items() if (line := exhausted_line(name, s))]
    return ["## Users exhausted", "\n".join(lines)] if lines else []


def _pool_section(strategies: dict[str, StrategySummary]) -> list[str]:
    """How each open-loop pool of users grew (and why), and what it dropped at --max-users."""
    lines, changed = [], False
    for name, section in strategies.items():
        pool = section.user_pool
        if pool is None:
            continue
        grew = growth_line(pool, section.latency_us_raw)
        changed = changed or bool(grew or pool.dropped)
        said = [grew[0].upper() + grew[1:] + "." if grew else f"Stayed at {_counted(pool.start, 'user')}."]
        if pool.dropped:
            said.append(
                f"At its limit of {_counted(pool.max, 'user')} it **dropped {fmt_count(pool.dropped)} due"
                f" requests** ({pool.dropped_share or 0:.2%}; in {fmt_count(pool.dropped_seconds)} s, at most"
                f" {fmt_count(pool.dropped_peak_per_s)} in one): never sent, so the phase is not valid."
            )
        lines.append(f"- **{name}**: " + " ".join(said))
    if not changed:
        return []  # pools that never grew nor dropped need no section
    text = (
        "In open loop each process starts with its share of --users; when a due request finds every user"
        " busy, the pool grows (at most doubling, one batch at a time) up to --max-users. A growth in seconds"
        " (or followed by one) whose replies' median or p99 was over twice the phase's is replies slowing"
        " (Little's law: the same rate then holds more users); otherwise the rate needed more users in"
        " flight than the pool started with."
    )
    return ["## The pool of users", text, "\n".join(lines)]


def _writes_line(name: str, section: StrategySummary) -> str:
    """One bullet on the background writer of a strategy."""
    writes = section.writes
    if writes is None:
        return f"- **{name}**: background writer off."
    latency = writes.latency_us or Percentiles()
    return (
        f"- **{name}**: {fmt_count(writes.requests)} ZINCRBYs ({fmt_count(writes.failures)}"
        f" failed), one per {fmt_count(writes.read_write_ratio)} reads; latency p50 {fmt_ms(latency.p50)}"
        f" ms, p99 {fmt_ms(latency.p99)} ms, max"
        f" {fmt_ms(latency.max)} ms."
    )


def _sections_of(strategies: dict[str, StrategySummary], key: str) -> dict[str, Any]:
    """Each strategy's ``key`` section, for the strategies that have one."""
    return {name: getattr(s, key) for name, s in strategies.items() if getattr(s, key) is not None}


def _section(title: str, text: str, columns: list[Column], sections: dict[str, Any]) -> list[str]:
    """A titled table of one section per strategy; nothing when no strategy has the section."""
    return [title, *([text] if text else []), _columns(columns, sections)] if sections else []


def _measured_sections(summary: Summary, plots: dict[str, str]) -> list[str]:
    """Cross-validation, writes, plots, the refresher, staleness, memory."""
    strategies = summary.strategies
    parts: list[str] = []
    if any(s.cross_check is not None for s in strategies.values()):
        parts += ["## Cross-validation", CROSS_CHECK_TEXT, _columns(CROSS_CHECK_COLUMNS, strategies)]
    # Every summary since schema 2 has a writes entry, null where the writer was off.
    if (summary.schema_version or 0) >= WRITES_SINCE_SCHEMA or any(s.writes for s in strategies.values()):
        parts += ["## Writes", "\n".join(_writes_line(name, s) for name, s in strategies.items())]
    if plots:
        parts += ["## Plots", *(f"![{caption}]({name})\n\n*{caption}*" for caption, name in plots.items())]
    refreshers = _sections_of(strategies, "refresher")
    parts += _section("## Background refresher", "", REFRESHER_COLUMNS, refreshers)
    stale = _sections_of(strategies, "staleness")
    live = [name for name in strategies if name not in stale]
    not_sampled = f" Not sampled (live data, fresh by construction): {', '.join(live)}." if live else ""
    parts += _section("## Staleness", STALENESS_TEXT + not_sampled, STALENESS_REPORT_COLUMNS, stale)
    return parts + _section("## Memory", MEMORY_TEXT, MEMORY_COLUMNS, _sections_of(strategies, "memory"))


def _scale_section(summary: Summary) -> list[str]:
    """The plan for the seed's scenario from this run alone."""
    plan = summary.scale_model
    if plan is None or not plan.strategies:
        return []
    t = plan.target
    text = SCALE_TEXT.format(
        players=fmt_count(t.players),
        shards=fmt_count(t.shards),
        reads=fmt_count(t.rps),
        top_n=t.top_n,
        ratio=fmt_count(t.read_write_ratio),
        entries=fmt_count(t.cached_entries),
        interval=t.refresh_interval_s,
        slo=t.slo_p99_ms,
        network=t.network,
    )
    why = "\n".join(f"- {line}" for line in plan.why)
    return [
        "## Scale model: the plan for the seed's scenario",
        text,
        why,
        plan_table(plan, set()),
        assumptions_table(plan),
    ]


def _claims_section(summary: Summary) -> list[str]:
    """Every seed claim next to what this run measured, with its verdict."""
    claims = [*seed_claims(summary), *tradeoff_claims(summary)]
    rows = [[c.claim, c.measured, c.projected, f"**{c.verdict}**: {c.reason}"] for c in claims]
    return [
        "## Seed claims vs measured",
        f"Claims are quoted from the seed design doc; projections scale this run's per-request figures to the"
        f" seed's {SEED_RPS:,} req/s.",
        _table(["claim (seed)", "measured here", "projected to 10k req/s", "verdict"], rows, numeric=False),
    ]


def _tls_section(clear: Summary | None, summary: Summary) -> list[str]:
    """A --tls run's cost of TLS, against its clear baseline (none without one)."""
    if clear is None:
        return []
    cost = tls_cost(summary, clear)
    header, rows = cost.table()
    return [
        "## TLS: what it cost in this run",
        "Naive and cached ran again in the clear right after the TLS phases, on the same server build,"
        " data and load (`clear/` in this run's directory). Latencies are corrected p50 and p99; CPU is"
        " per request, the client's (all load processes) and Redis's (all nodes).",
        f"**{cost.line()}**",
        *([md_table(header, rows)] if cost.pairs else []),
    ]


def render_report(
    summary: Summary, meta: dict[str, Any], plots: dict[str, str], clear: Summary | None = None
) -> str:
    """Render the run as Markdown: warnings, scenario, comparison, cross-validation, plots, claims.

    Args:
        summary: the run's summary (docs/run-directory.md).
        meta: run metadata with optional keys machine, versions and git.
        plots: caption -> image file name relative to the report.
        clear: a --tls run's clear baseline (its ``clear/`` summary), for the TLS section.
    """
    strategies = summary.strategies
    formats = cache_format_comparison(summary)
    run_id = "unnamed run" if summary.run_id is None else summary.run_id
    parts = [
        f"# Leaderboard benchmark: {run_id}",
        *warning_banner(strategies),
        f"Created {_or_na(summary.created_utc)}. Strategies in run order: {', '.join(strategies)}.",
        "## Scenario",
        _scenario_paragraph(summary, meta),
        *cluster_section(meta, strategies),
        "## How to read this report",
        HOW_TO_READ,
        "## Comparison",
        "Latencies in milliseconds (corrected unless marked raw or lag); per-request figures divide by"
        " attempts.",
        _columns(COMPARISON_COLUMNS, strategies),
        *_pool_section(strategies),
        *_exhausted_section(strategies),
        *_measured_sections(summary, plots),
        *faults_section(summary),
        *_scale_section(summary),
        *capacity_report(summary, _table),
        *network_section(summary, plots),
        *(["## Cache format: sorted set vs blob", formats] if formats else []),
        *_section("## A player's global rank", RANK_TEXT, RANK_COLUMNS, _sections_of(strategies, "rank")),
        *_tls_section(clear, summary),
        *_claims_section(summary),
    ]
    return "\n\n".join(parts) + "\n"


def _p99(latency: Percentiles | None) -> float | None:
    return latency.p99 if latency else None


def _counted(count: float | None, noun: str) -> str:
    """``count`` of ``noun``, in the plural unless it is one."""
    return f"{fmt_count(count)} {noun}{'' if count == 1 else 's'}"


def exhausted_line(name: str, section: StrategySummary) -> str | None:
    """A report bullet saying when every user was busy and whose lag that was; None when never."""
    exhausted: UsersExhausted | None = section.users_exhausted
    requests = exhausted.requests if exhausted else None
    if not exhausted or not requests:
        return None
    episodes = exhausted.episodes or []
    when = ", ".join(
        f"from {fmt_count(e.from_s, 2)} s to {fmt_count(e.to_s, 2)} s ({_counted(e.requests, 'request')})"
        for e in sorted(episodes, key=lambda e: -(e.requests or 0))[:EPISODES_SHOWN]
    )
    more = len(episodes) - EPISODES_SHOWN
    when = f"{when} and {more} shorter times" if more > 0 else when
    share = exhausted.share or 0.0
    said = (
        f"- **{name}**: all users were busy (in-flight limit of {fmt_count(exhausted.users)}"
        f" users reached; peak {fmt_count(exhausted.in_flight_max)} in flight), longest first,"
        f" {when} into the window:"
        f" {_counted(requests, 'request')} ({share:.2%}) waited for a free user."
    )
    figures = (
        f"corrected p99 {fmt_ms(_p99(section.latency_us))} ms, schedule lag p99"
        f" {fmt_ms(_p99(section.schedule_lag_us))} ms, the generator's own lag p99"
        f" {fmt_ms(_p99(section.generator_lag_us))} ms"
    )
    if section.valid is False:
        return (
            f"{said} The strategy is not valid (see the warning above), so the users may have been"
            f" kept busy by the generator itself ({figures})."
        )
    catch_up_us = exhausted.catch_up_lag_us_p99
    after = (
        f" When the users came free, the generator sent the backlog of overdue requests with its own lag"
        f" p99 {fmt_ms(catch_up_us)} ms in those seconds, which the lag guard leaves out (the stall's wake)."
        if catch_up_us
        else ""
    )
    return (
        f"{said} That is the system being slow, not the generator: corrected latency carries the wait"
        f" ({figures}).{after}"
    )


RANK_TEXT = (
    "After each strategy's load phase, its `rank(player)` answered for sampled players (uniform ids plus"
    " log-spaced ranks of the top 10,000) next to the exact rank read from the shards at the same moment."
    " Cost per query is measured on the strategy's own connections; µs is the median wall time of one"
    " query (loopback, no load running)."
)


# From the metric table (analysis/metrics/table.py).
RANK_COLUMNS: list[Column] = metrics.columns(metrics.RANK)


EPISODES_SHOWN = 3  # the report names the largest few times users were exhausted
