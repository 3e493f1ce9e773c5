"""The gate as JUnit XML: one testcase per check, so CI systems list, count and trend the checks.

A FAIL is a ``<failure>``. An UNSTABLE check follows the gate's ``--unstable`` policy: a ``<failure>``
under ``fail``, a ``<skipped>`` (undecided, not broken) under ``warn``, an ``<error>`` (the gate could
not decide it) under ``exit-3``. PASS and NO CHANGE pass, their note kept as ``system-out``. The
element and attribute names are those of the JUnit format most parsers read (Jenkins', the one
pytest writes); ElementTree escapes the text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from analysis.gate.evaluate import FAIL, UNSTABLE, fmt_change, fmt_value

SUITE = "lbbench gate"
#: What an UNSTABLE check becomes, by --unstable policy.
UNSTABLE_ELEMENT = {"fail": "failure", "warn": "skipped", "exit-3": "error"}


def _classname(check: str) -> str:
    """The strategy a check is about (its first name), so reports group the checks by strategy."""
    head = check.removeprefix("ratio(").split(".", 1)[0].strip()
    return f"lbbench.gate.{head}" if head.isidentifier() else "lbbench.gate"


def _message(row: dict[str, Any]) -> str:
    change = f", change {fmt_change(row['change'])}" if row.get("change") is not None else ""
    return f"{row['verdict']}: current {fmt_value(row['current'])}{change}; {row['note']}"


def junit_xml(gate: dict[str, Any], unstable: str) -> str:
    """gate.json's content as a JUnit XML document."""
    rows: list[dict[str, Any]] = gate["checks"]
    outcome = [_outcome(row["verdict"], unstable) for row in rows]
    suite = ET.Element(
        "testsuite",
        name=SUITE,
        tests=str(len(rows)),
        failures=str(outcome.count("failure")),
        errors=str(outcome.count("error")),
        skipped=str(outcome.count("skipped")),
        timestamp=str(gate["created_utc"]),
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("verdict", gate["verdict"]),
        ("runs", ", ".join(gate.get("runs") or [])),
        ("baseline", (gate.get("baseline") or {}).get("path", "none")),
    ):
        ET.SubElement(properties, "property", name=name, value=str(value))
    for row, element in zip(rows, outcome, strict=True):
        classname = _classname(row["check"])
        case = ET.SubElement(suite, "testcase", classname=classname, name=row["check"], time="0")
        message = _message(row)
        if element is None:
            ET.SubElement(case, "system-out").text = message
        else:
            ET.SubElement(case, element, message=message, type=row["verdict"]).text = message
    if gate.get("warnings"):
        ET.SubElement(suite, "system-err").text = "\n".join(gate["warnings"])
    suites = ET.Element("testsuites", name=SUITE)
    suites.append(suite)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _outcome(verdict: str, unstable: str) -> str | None:
    """The JUnit element of a verdict: failure, error, skipped, or None for a pass."""
    if verdict == FAIL:
        return "failure"
    if verdict == UNSTABLE:
        return UNSTABLE_ELEMENT[unstable]
    return None
