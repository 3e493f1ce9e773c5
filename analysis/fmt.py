"""Numbers as the Markdown report writes them, and the little arithmetic that tolerates missing figures."""

from __future__ import annotations

import math
from typing import Any

from runfiles.summary import StrategySummary


def num(section: dict[str, Any] | None, *keys: str) -> float | None:
    """A nested finite number of a JSON dict (a file being built or read whole), or None when missing,
    null or NaN. Code that reads a summary reads its typed attributes instead (runfiles.summary)."""
    value: Any = section
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """Divide, giving None for missing values or a zero denominator."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def invalid_reason(section: StrategySummary | None) -> str | None:
    """The saturation guard's reason when a strategy is marked invalid; None when valid or unmarked."""
    if section is None or section.valid is not False:
        return None
    return str(section.invalid_reason or "marked not valid")


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


def md_table(header: list[str], rows: list[list[str]], numeric: bool = True, labels: int = 1) -> str:
    """Render a Markdown table, escaping pipes; numeric tables right-align all but the first column.

    Args:
        labels: how many leading columns are labels, left-aligned in a numeric table too.
    """
    rule = [":--"] * labels + ["--:" if numeric else ":--"] * (len(header) - labels)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in row) + " |" for row in rows]
    return "\n".join(lines)
