"""`lbbench netcheck`'s verdict: each run's measured latency against what the network model projects.

The runs of one check (bench/run/netcheck.py): ``direct``, ``relay-loopback`` (relays adding
nothing) and ``relay-<profile>``. A zero-delay run is projected from its own sampled parts with
nothing added (within ZERO_TOLERANCE). A profile's run is projected from the direct run's parts
plus, per socket, the profile's round trip and the relay's own hop (within PROFILE_TOLERANCE), both
with the nominal round trips and with the ones the relay achieved (each chunk's hold, which a timed
wake-up can stretch). The relay's hop is measured on one socket: the cached read's median service
time through the zero-delay relays minus direct. The zero-delay relay run's own parts are no basis
for the profile runs: there the relay, one Python loop, takes a fan-out's ten chunks one after the
other, a queue that the profile runs' independent holds spread out. Latency is the raw one, send to
reply, as the model has no schedule lag in it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from analysis.figures.netmodel import Parts, project, read_parts
from analysis.fmt import fmt_ms, md_table, num
from runfiles import (
    ACHIEVED_PROFILE,
    DIRECT,
    NETCHECK_JSON,
    NETCHECK_MD,
    RunFiles,
    relay_run,
    write_json,
)
from runfiles.rtt import BUILT_IN, LOOPBACK, RttProfile, parse_profile
from runfiles.summary import read_summary

ZERO_TOLERANCE = 0.10
PROFILE_TOLERANCE = 0.15
STRATEGIES = ("naive", "cached")
QUANTILES = ("p50", "p99")


def _measured(run_dir: Path) -> dict[str, dict[str, float | None]]:
    strategies = read_summary(RunFiles(run_dir).summary).strategies
    measured: dict[str, dict[str, float | None]] = {}
    for name in STRATEGIES:
        section = strategies.get(name)
        raw = section.latency_us_raw if section else None
        measured[name] = {"p50": raw.p50 if raw else None, "p99": raw.p99 if raw else None}
    return measured


def _rows(
    run_dir: Path, parts: Parts, profile: RttProfile, *, basis: str, tolerance: float
) -> list[dict[str, Any]]:
    """One row per strategy and quantile: measured, projected, relative error, within tolerance."""
    projected = project(parts, profile)
    measured = _measured(run_dir)
    rows = []
    for strategy in STRATEGIES:
        for q in QUANTILES:
            got = measured[strategy][q]
            want = num(projected.get(f"{strategy}_us"), q)
            error = None if got is None or want is None or got == 0 else (want - got) / got
            rows.append(
                {
                    "run": run_dir.name,
                    "profile": profile.name,
                    "parts_from": basis,
                    "strategy": strategy,
                    "quantile": q,
                    "measured_us": got,
                    "projected_us": want,
                    "error": None if error is None else round(error, 4),
                    "tolerance": tolerance,
                    "within": None if error is None else abs(error) <= tolerance,
                }
            )
    return rows


def relay_hop_us(direct: Parts, zero: Parts) -> float:
    """What one round trip through a zero-delay relay adds: median cached service, relay minus direct."""
    if not len(direct.service_us) or not len(zero.service_us):
        return 0.0
    return round(float(np.median(zero.service_us) - np.median(direct.service_us)), 1)


def with_hop(profile: RttProfile, hop_us: float) -> RttProfile:
    """``profile`` with the relay's hop added to every round trip."""
    rtt_us = tuple(value + hop_us for value in profile.rtt_us)
    return RttProfile(profile.name, profile.quantiles, rtt_us, profile.source)


def _overhead(direct: Path, zero: Path) -> list[dict[str, Any]]:
    """The relay's own cost: zero-delay relay run minus direct run, raw latency."""
    before, after = _measured(direct), _measured(zero)
    rows = []
    for strategy in STRATEGIES:
        for q in QUANTILES:
            a, b = before[strategy][q], after[strategy][q]
            rows.append(
                {"strategy": strategy, "quantile": q, "direct_us": a, "relay_zero_us": b,
                 "overhead_us": None if a is None or b is None else round(b - a, 1)}
            )  # fmt: skip
    return rows


def check(out: Path) -> dict[str, Any]:
    """Compare every run of a check directory with its projection; written to netcheck.json/md."""
    direct, zero = out / DIRECT, out / relay_run(LOOPBACK.name)
    direct_parts, zero_parts = read_parts(direct), read_parts(zero)
    hop_us = relay_hop_us(direct_parts, zero_parts)
    rows = _rows(direct, direct_parts, LOOPBACK, basis=DIRECT, tolerance=ZERO_TOLERANCE)
    rows += _rows(zero, zero_parts, LOOPBACK, basis=zero.name, tolerance=ZERO_TOLERANCE)
    for run_dir in sorted(out.glob(relay_run("*"))):
        name = run_dir.name.removeprefix(relay_run(""))
        if name == LOOPBACK.name or name not in BUILT_IN:
            continue
        profiles = [BUILT_IN[name]]
        if (run_dir / ACHIEVED_PROFILE).is_file():
            profiles.append(parse_profile(run_dir / ACHIEVED_PROFILE))
        for profile in profiles:
            basis = f"{DIRECT} + relay hop"
            projected = with_hop(profile, hop_us)
            rows += _rows(run_dir, direct_parts, projected, basis=basis, tolerance=PROFILE_TOLERANCE)
    result = {
        "rows": rows,
        "relay_hop_us": hop_us,
        "relay_overhead": _overhead(direct, zero),
        "all_within": all(r["within"] for r in rows if r["profile"] in BUILT_IN),
    }
    write_json(out / NETCHECK_JSON, result)
    (out / NETCHECK_MD).write_text(render(result))
    return result


def row_label(row: dict[str, Any]) -> list[str]:
    """A comparison row's label cells: run, RTT profile, latency."""
    return [row["run"], row["profile"], f"{row['strategy']} {row['quantile']}"]


def row_verdict(row: dict[str, Any]) -> list[str]:
    """A comparison row's figure cells: measured ms, projected ms, error, within."""
    error = "n/a" if row["error"] is None else f"{row['error'] * 100:+.1f}%"
    within = f"{'yes' if row['within'] else 'NO'} (±{row['tolerance'] * 100:.0f}%)"
    return [fmt_ms(row["measured_us"]), fmt_ms(row["projected_us"]), error, within]


def render(result: dict[str, Any]) -> str:
    """The check as Markdown: measured against projected per run, then the relay's overhead."""
    rows = [row_label(r) + row_verdict(r) for r in result["rows"]]
    header = ["run", "RTT profile", "latency", "measured ms", "projected ms", "error", "within"]
    overhead = [
        [f"{r['strategy']} {r['quantile']}", fmt_ms(r["direct_us"]), fmt_ms(r["relay_zero_us"]),
         "n/a" if r["overhead_us"] is None else f"{r['overhead_us']:+.0f} µs"]
        for r in result["relay_overhead"]
    ]  # fmt: skip
    return (
        "\n\n".join(
            [
                "## Network model against real delay relays",
                "Raw latency (send to reply). Zero-delay runs are projected from their own sampled parts;"
                " profile runs from the direct run's parts plus, per socket, the profile's round trip and"
                f" the relay's own hop ({result['relay_hop_us']:,.0f} µs: the cached read's median service"
                " time through the zero-delay relays minus direct). `*-achieved` rows use the round trips"
                " the relay really held each chunk for.",
                md_table(header, rows),
                "### The relay's own overhead (zero-delay relay against direct)",
                md_table(["latency", "direct ms", "relay, no delay, ms", "overhead"], overhead),
                f"Every built-in profile within tolerance: **{'yes' if result['all_within'] else 'no'}**.",
            ]
        )
        + "\n"
    )
