"""The tier a plan sizes, as the command line and a scenario file's ``[target]`` table write it.

``--target players=20M,shards=30,rps=50k,network=same-zone,slo_p99_ms=5,max_staleness=30s`` or::

    [target]
    players = 20_000_000
    shards = 30
    rps = 50_000
    slo_p99_ms = 5
    max_staleness = "30s"

Keys are the fields of :class:`analysis.figures.target.Target`; a time may carry a unit and its key
may drop the ``_s`` (``refresh_interval=500ms``); counts may end in k, M or G. Every key left out keeps
the seed's scenario.
"""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path
from typing import Any

from analysis.figures.target import SEED, Target, TargetError, check_target
from bench.declare import Kind
from bench.units import parse_duration, plain_number
from runfiles.rtt import BUILT_IN

_SUFFIX = {"k": 1e3, "M": 1e6, "G": 1e9}
_FIELDS = {f.name: f for f in dataclasses.fields(Target)}
#: Keys as written without their unit: a time may carry its own (``max_staleness=30s``).
_ALIASES = {name.removesuffix("_s"): name for name in _FIELDS if name.endswith("_s")}


def _count(text: str) -> float:
    compact = text.strip().replace("_", "")
    scale = _SUFFIX.get(compact[-1:], 1.0)
    number = compact[:-1] if compact[-1:] in _SUFFIX else compact
    try:
        return float(number) * scale
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None


def _value(name: str, value: object) -> Any:
    """One field's value from text or a TOML value, in the field's type."""
    kind = _FIELDS[name].type
    if name == "network":
        if not isinstance(value, str) or not value:
            raise ValueError(f"network must be a profile name or a file, got {value!r}")
        return value
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if name.endswith("_s") and isinstance(value, str):
        return parse_duration(value)
    number = _count(value) if isinstance(value, str) else value
    if not isinstance(number, int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if "int" in str(kind):  # the annotation's text: "int" or "int | None"
        if float(number) != int(number):
            raise ValueError(f"{name} must be a whole number, got {plain_number(float(number))}")
        return int(number)
    return float(number)


def build_target(pairs: dict[str, object], relative_to: Path | None = None) -> Target:
    """A Target from key/value pairs (ValueError naming the key that is wrong)."""
    values: dict[str, Any] = {}
    for key, value in pairs.items():
        name = _ALIASES.get(key, key)
        if name not in _FIELDS:
            close = difflib.get_close_matches(key, [*_FIELDS, *_ALIASES], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(_FIELDS)}"
            raise ValueError(f"has no key {key!r}{hint}")
        try:
            values[name] = _value(name, value)
        except ValueError as exc:
            raise ValueError(f"{key}: {exc}") from None
    if relative_to is not None and "network" in values and values["network"] not in BUILT_IN:
        candidate = relative_to / values["network"]
        if candidate.is_file():
            values["network"] = str(candidate)
    target = dataclasses.replace(SEED, **values)
    try:
        check_target(target)
    except TargetError as exc:
        raise ValueError(str(exc)) from None
    return target


def parse_pairs(text: str) -> dict[str, object]:
    """``a=1,b=2`` -> ``{"a": "1", "b": "2"}``."""
    pairs: dict[str, object] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"takes key=value pairs, got {part!r}")
        pairs[key.strip()] = value.strip()
    return pairs


def format_target(target: Target) -> str:
    """The ``--target`` text of the fields that differ from the seed's."""
    changed = []
    for name in _FIELDS:
        value = getattr(target, name)
        if value != getattr(SEED, name):
            shown = plain_number(value) if isinstance(value, float) else str(value)
            changed.append(f"{name}={shown}")
    return ",".join(changed)


class TargetKind(Kind[Target]):
    """``--target key=value,...`` or a ``[target]`` table."""

    metavar = "K=V,..."
    takes_table = True

    def parse(self, text: str) -> Target:
        return build_target(parse_pairs(text))

    def load(self, value: object, relative_to: Path | None = None) -> Target:
        if isinstance(value, dict):
            return build_target(value, relative_to)
        if isinstance(value, str):
            return build_target(parse_pairs(value), relative_to)
        raise ValueError(f"must be a [target] table or key=value text, got {value!r}")

    def dump(self, value: Target) -> object:
        return format_target(value)

    def show(self, value: Target) -> str:
        return format_target(value) or "the seed's"

    def describe(self) -> str:
        return "key=value pairs: " + ", ".join(f"`{name}`" for name in _FIELDS)

    @property
    def expects(self) -> str:
        return "key=value pairs"
