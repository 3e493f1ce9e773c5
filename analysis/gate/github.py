"""The gate for GitHub Actions: annotations on the run's page and a step summary.

Annotations are workflow commands printed to stdout (``::error title=...::message``): GitHub shows
each FAIL as an error and each warning of the gate as a warning; an UNSTABLE check is an error under
``--unstable fail`` and a warning otherwise. The step summary is Markdown the runner renders on the
job's page; it is appended to the file named by ``$GITHUB_STEP_SUMMARY``. Workflow-command data
escapes ``%``, CR and LF, and property values ``:`` and ``,`` too (GitHub's workflow-commands docs).
"""

from __future__ import annotations

from typing import Any

from analysis.gate.evaluate import FAIL, UNSTABLE, fmt_value
from analysis.gate.report import gate_table

TITLE = "lbbench gate"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_commands(gate: dict[str, Any], unstable: str) -> list[str]:
    """One workflow command per FAIL or UNSTABLE check and per warning."""
    lines = []
    for row in gate["checks"]:
        if row["verdict"] == FAIL or row["verdict"] == UNSTABLE:
            level = "error" if row["verdict"] == FAIL or unstable == "fail" else "warning"
            title = _property(f"{TITLE} {row['verdict']}")
            message = f"{row['check']} — current {fmt_value(row['current'])}; {row['note']}"
            lines.append(f"::{level} title={title}::{_data(message)}")
    lines += [f"::warning title={_property(TITLE)}::{_data(w)}" for w in gate.get("warnings") or []]
    return lines


def step_summary(gate: dict[str, Any]) -> str:
    """Markdown for the job's summary page: the verdict, the exit code, the table and the warnings."""
    runs = gate.get("runs") or []
    baseline = gate.get("baseline")
    against = f"against `{baseline['path']}`" if isinstance(baseline, dict) else "without a baseline"
    lines = [
        f"## {TITLE}: {gate['verdict']} (exit {gate['exit_code']})",
        "",
        f"{len(runs)} run(s) {against}.",
        "",
        gate_table(gate),
    ]
    lines += [f"\n> {warning}" for warning in gate.get("warnings") or []]
    return "\n".join(lines) + "\n"
