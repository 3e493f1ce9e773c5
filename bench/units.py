"""Times written with their units: ``90s``, ``1m30s``, ``500ms``, ``2h``; one parser for every flag and spec.

A bare number is in the unit the caller names (seconds for ``--duration``, milliseconds for
``--timeout-ms``), so existing command lines keep their meaning. Values come back as floats in that
same unit. Parsing is pure and raises ValueError with the text that could not be read.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

#: Each unit's length in milliseconds (whole numbers, so a conversion rounds once). ``m`` is minutes.
UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}

_NUMBER = r"(?:\d[\d_]*(?:\.\d*)?|\.\d+)"
_PART = re.compile(rf"({_NUMBER})(ms|s|m|h)")
_BARE = re.compile(rf"^{_NUMBER}$")
EXAMPLES = "e.g. 90s, 1m30s, 500ms"


def parse_duration(text: str, unit: str = "s") -> float:
    """``text`` as a time in ``unit`` (``s`` or ``ms``); a bare number is already in ``unit``.

    Parts with units add up, largest first, each unit once: ``1h2m3.5s``, ``1m30s``, ``250ms``.
    """
    compact = text.strip().replace(" ", "")
    if _BARE.match(compact):
        return float(compact.replace("_", ""))
    total_ms, end, seen = 0.0, 0, []
    for match in _PART.finditer(compact):
        if match.start() != end:
            break
        seen.append(match[2])
        total_ms += float(match[1].replace("_", "")) * UNIT_MS[match[2]]
        end = match.end()
    order = sorted(seen, key=lambda u: -UNIT_MS[u])
    if not compact or end != len(compact) or seen != order or len(set(seen)) != len(seen):
        raise ValueError(f"not a time: {text!r} ({EXAMPLES}; a bare number is in {unit})")
    return total_ms / UNIT_MS[unit]


def format_duration(value: float, unit: str = "s") -> str:
    """``value`` (in ``unit``) written so that :func:`parse_duration` reads it back exactly: 60 -> ``"60s"``;
    under a second in whole milliseconds, in ms (0.5 -> ``"500ms"``)."""
    if not math.isfinite(value):
        raise ValueError(f"not a finite time: {value}")
    if unit == "s" and 0 < value < 1:
        in_ms = f"{plain_number(value * 1000)}ms"
        if "." not in in_ms and parse_duration(in_ms) == value:
            return in_ms
    return f"{plain_number(value)}{unit}"


def plain_number(value: float) -> str:
    """A number as written by hand and read back exactly: 60.0 -> ``60``, 0.25 -> ``0.25``."""
    if float(value).is_integer():
        return str(int(value))
    return format(Decimal(repr(float(value))), "f")  # repr's shortest digits, never an exponent
