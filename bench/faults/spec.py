"""The ``--fault`` grammar: ``KIND:key=value,...`` or a preset name, resolved against the run's settings.

Times are written as every time the harness takes (bench/units.py: ``20s``, ``500ms``, ``1m30s``; a bare
number is seconds) or in ``%`` of the phase's ``--duration``, so a preset fits any duration. Parsing is
pure: :func:`resolve` turns texts into :class:`Fault`\\ s, or raises UsageError with one line naming the
spec.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench.errors import UsageError
from bench.units import parse_duration


@dataclass(frozen=True)
class Kind:
    """One fault kind: its keys (required, then optional) and what it does, in words."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    does: str
    on_server: bool = True  # False: the harness's own part, which every provider can fault


KINDS = {
    k.name: k
    for k in (
        Kind(
            "stall",
            ("shard", "at", "for"),
            (),
            "freeze the shard's server (SIGSTOP / docker pause) for `for`",
        ),
        Kind(
            "kill",
            ("shard", "at"),
            ("restart",),
            "SIGKILL the shard's server; with restart=T start it again T later on the same port, "
            "its data restored as it was when the phase started (else it comes back at the phase's end)",
        ),
        Kind(
            "slow",
            ("shard", "at", "for", "duty"),
            (),
            "the shard's server runs only (1 - duty) of the time for `for` (a noisy neighbour)",
        ),
        Kind(
            "cache-down",
            ("at", "for"),
            (),
            "kill the cache node; it restarts empty on the same port `for` later, "
            "refilled by the refresher's next run",
        ),
        Kind("refresher-dead", ("at",), (), "the background cache refresher stops for good", on_server=False),
    )
}

#: ``--fault NAME``: every time in % of --duration, so each fits any phase length.
PRESETS = {
    "shard-stall": "stall:shard=0,at=30%,for=20%",
    "shard-kill": "kill:shard=0,at=30%,restart=20%",
    "slow-shard": "slow:shard=0,at=30%,for=40%,duty=50%",
    "cache-outage": "cache-down:at=30%,for=20%",
    "dead-refresher": "refresher-dead:at=30%",
}

_PERCENT = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)%$")
_TIME_KEYS = ("at", "for", "restart")


@dataclass(frozen=True)
class Fault:
    """One fault, resolved: offsets in seconds from the phase's load window start."""

    spec: str  # as given (a preset's name is expanded: "shard-stall = stall:...")
    kind: str
    at_s: float
    shard: int | None = None
    for_s: float | None = None  # stall, slow, cache-down: how long it lasts
    restart_s: float | None = None  # kill: restart this long after the kill (None: at the phase's end)
    duty: float | None = None  # slow: share of the time the server is held

    @property
    def target(self) -> str:
        """The node (or part of the harness) the fault hits."""
        if self.shard is not None:
            return f"shard-{self.shard}"
        return "refresher" if self.kind == "refresher-dead" else "cache"

    @property
    def end_s(self) -> float | None:
        """When the fault is undone during the phase (None: it lasts to the phase's end)."""
        length = self.restart_s if self.kind == "kill" else self.for_s
        return None if length is None else self.at_s + length

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "target": self.target, "end_s": self.end_s}


def _seconds(key: str, text: str, duration_s: float) -> float:
    percent = _PERCENT.match(text)
    if percent is not None:
        return float(percent[1]) / 100 * duration_s
    try:
        return parse_duration(text)
    except ValueError:
        raise ValueError(f"{key}={text} is not a time (e.g. 20s, 500ms, 1m30s, 30%)") from None


def _duty(text: str) -> float:
    try:
        share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ValueError(f"duty={text} is not a share (e.g. 50% or 0.5)") from None
    if not 0 < share < 1:
        raise ValueError(f"duty={text} must lie strictly between 0% and 100% (100% is a stall)")
    return share


def _shard(text: str, shards: int) -> int:
    if not text.isdigit():
        raise ValueError(f"shard={text} is not a shard index")
    index = int(text)
    if index >= shards:
        raise ValueError(f"shard={index} does not exist: --shards {shards} numbers them 0..{shards - 1}")
    return index


def _pairs(body: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in body.split(",") if body else []:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise ValueError(f"{item!r} is not key=value")
        if key in pairs:
            raise ValueError(f"{key} given twice")
        pairs[key] = value
    return pairs


def _expand(text: str) -> str:
    spec = text.strip()
    return PRESETS.get(spec, spec)


def kind_of(text: str) -> str:
    """The kind a spec or preset names, unchecked (for provider checks before the full parse)."""
    return _expand(text).partition(":")[0].strip()


def parse(text: str, duration_s: float, shards: int) -> Fault:
    """One spec or preset name; ValueError saying what is wrong with it."""
    spec = _expand(text)
    name, _, body = spec.partition(":")
    kind = KINDS.get(name.strip())
    if kind is None:
        raise ValueError(
            f"unknown fault kind {name.strip()!r}; kinds: {', '.join(KINDS)}; presets: {', '.join(PRESETS)}"
        )
    pairs = _pairs(body)
    missing = [k for k in kind.required if k not in pairs]
    unknown = [k for k in pairs if k not in kind.required + kind.optional]
    if missing:
        raise ValueError(f"{kind.name} needs {', '.join(f'{k}=' for k in missing)}")
    if unknown:
        allowed = ", ".join(kind.required + kind.optional)
        raise ValueError(f"{kind.name} takes no {unknown[0]}= (it takes {allowed})")
    times = {k: _seconds(k, pairs[k], duration_s) for k in _TIME_KEYS if k in pairs}
    for key in ("for", "restart"):
        if key in times and times[key] <= 0:
            raise ValueError(f"{key}={pairs[key]} must be positive")
    if times["at"] >= duration_s:
        raise ValueError(f"at={pairs['at']} is not inside the {duration_s:g} s load phase")
    return Fault(
        spec=text.strip() if text.strip() == spec else f"{text.strip()} = {spec}",
        kind=kind.name,
        at_s=times["at"],
        shard=_shard(pairs["shard"], shards) if "shard" in pairs else None,
        for_s=times.get("for"),
        restart_s=times.get("restart"),
        duty=_duty(pairs["duty"]) if "duty" in pairs else None,
    )


def resolve(texts: Sequence[str], duration_s: float, shards: int) -> list[Fault]:
    """Every ``--fault``, in the order given; UsageError (one line) at the first bad one."""
    faults = []
    for text in texts:
        try:
            faults.append(parse(text, duration_s, shards))
        except ValueError as exc:
            raise UsageError(f"--fault {text}: {exc}") from None
    _refuse_overlaps(faults)
    return faults


def _refuse_overlaps(faults: Sequence[Fault]) -> None:
    """Two faults on one node at once would undo each other (a resume ends the other's stall)."""
    for i, first in enumerate(faults):
        for second in faults[i + 1 :]:
            if first.target != second.target or first.kind == "refresher-dead":
                continue
            a_end = first.end_s if first.end_s is not None else float("inf")
            b_end = second.end_s if second.end_s is not None else float("inf")
            if first.at_s < b_end and second.at_s < a_end:
                raise UsageError(f"--fault {first.spec} and --fault {second.spec} overlap on {first.target}")


def describe() -> str:
    """The grammar, kinds and presets, for `lbbench faults`."""
    lines = [
        "--fault KIND:key=value,...  or  --fault PRESET   (repeatable; docs/faults.md)",
        "times: 20s, 500ms, 1m30s, or 30% of --duration; offsets count from the phase's first request",
        "",
        "kinds:",
    ]
    for kind in KINDS.values():
        keys = ",".join([f"{k}=.." for k in kind.required] + [f"[{k}=..]" for k in kind.optional])
        lines += [f"  {kind.name}:{keys}", f"      {kind.does}"]
    lines += ["", "presets:"]
    lines += [f"  {name:<15} {spec}" for name, spec in PRESETS.items()]
    return "\n".join(lines)
