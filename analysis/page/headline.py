"""The answer a report.html opens with: the strategies side by side in a few numbers, then the verdicts.

Built from the summary the Markdown report is rendered from, with the same cells (the metric table's
key columns) and the same judged claims, so the two files cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis import metrics
from analysis.fmt import invalid_reason
from analysis.verdicts.claims import seed_claims
from analysis.verdicts.tradeoffs import tradeoff_claims
from analysis.verdicts.verdict import Verdict
from runfiles.summary import Summary

#: A verdict's colour on the page (the template's CSS classes).
TONES = {
    Verdict.HOLDS: "holds",
    Verdict.DOES_NOT_HOLD: "fails",
    Verdict.HOLDS_ONLY_IF: "caveat",
    Verdict.NOT_MEASURABLE: "unmeasured",
}


@dataclass(frozen=True)
class Badge:
    """One judged claim: its words, its verdict and why."""

    claim: str
    verdict: str
    tone: str
    reason: str


@dataclass(frozen=True)
class Headline:
    """What the page shows before any section."""

    columns: list[str]  # "strategy", then the key columns' headers (units in them)
    rows: list[list[str]]  # one per strategy, in run order
    invalid: list[str]  # "naive: <why>", one per strategy the run did not validate
    badges: list[Badge]
    facts: list[tuple[str, str]]  # (name, value): scenario, server, machine, commit, versions
    gate: Badge | None = None  # `lbbench gate`'s verdict on this run, once one ran (gate.json)


def _facts(summary: Summary, meta: dict[str, Any]) -> list[tuple[str, str]]:
    scenario = summary.scenario
    facts: list[tuple[str, str]] = []
    if scenario is not None:
        shape = [
            f"{scenario.players:,} players" if scenario.players else None,
            f"{scenario.shards} shards" if scenario.shards else None,
            f"{scenario.duration_s:g} s per strategy" if scenario.duration_s else None,
            f"top {scenario.top_n}" if scenario.top_n else None,
        ]
        facts.append(("scenario", ", ".join(part for part in shape if part)))
        if scenario.server:
            facts.append(("server", f"{scenario.server} ({scenario.provider or 'unknown provider'})"))
    machine: dict[str, Any] = meta.get("machine") or {}
    if machine:
        facts.append(("machine", f"{machine.get('cpu_count', '?')} CPUs, {machine.get('cpu_model', '?')}"))
    git: dict[str, Any] = meta.get("git") or {}
    if git.get("commit"):
        dirty = " (dirty tree)" if git.get("dirty") else ""
        facts.append(
            (
                "commit",
                f"{str(git['commit'])[:12]}{dirty}" + (f" on {git['branch']}" if git.get("branch") else ""),
            )
        )
    versions: dict[str, Any] = meta.get("versions") or {}
    if versions:
        facts.append(("versions", ", ".join(f"{name} {version}" for name, version in versions.items())))
    if summary.created_utc:
        facts.append(("created", summary.created_utc))
    return facts


#: gate.json's verdict -> its colour.
GATE_TONES = {"PASS": "holds", "FAIL": "fails", "UNSTABLE": "caveat"}


def _gate_badge(gate: dict[str, Any]) -> Badge:
    rows = gate.get("checks") or []
    failed = [str(row.get("check")) for row in rows if row.get("verdict") == "FAIL"]
    verdict = str(gate.get("verdict", "?"))
    reason = f"{len(rows)} checks" + (f"; failed: {', '.join(failed)}" if failed else "")
    return Badge(
        "Performance gate (lbbench gate)", f"gate {verdict}", GATE_TONES.get(verdict, "unmeasured"), reason
    )


def compare_headline(summary: Summary, meta: dict[str, Any], gate: dict[str, Any] | None = None) -> Headline:
    """A compare's headline (fault and cluster runs are compares too); ``gate``: its gate.json, if any."""
    key = metrics.key_columns(metrics.COMPARISON)
    rows = [[name, *(cell(section) for _, cell in key)] for name, section in summary.strategies.items()]
    invalid = [
        f"{name}: {reason}"
        for name, section in summary.strategies.items()
        if (reason := invalid_reason(section)) is not None
    ]
    badges = [
        Badge(c.claim, str(c.verdict), TONES[c.verdict], c.reason)
        for c in (*seed_claims(summary), *tradeoff_claims(summary))
    ]
    columns = ["strategy", *(label for label, _ in key)]
    return Headline(
        columns, rows, invalid, badges, _facts(summary, meta), _gate_badge(gate) if gate else None
    )
