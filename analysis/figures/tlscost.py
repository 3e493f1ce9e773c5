"""What TLS cost in a ``--tls`` run: its naive and cached phases against the same two in the clear.

The clear ones ran right after, on the same server build, machine, data and load (the run directory's
``clear/``, bench/run/compare.py), so the differences are TLS's. A strategy whose phase is not valid on
either side is left out, and the line says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.fmt import fmt_count, ratio
from runfiles.summary import StrategySummary, Summary

STRATEGIES = ("naive", "cached")


@dataclass(frozen=True)
class Measure:
    label: str
    unit: str

    def of(self, section: StrategySummary) -> float | None:
        latency = section.latency_us
        values = {
            "p50": latency.p50 if latency else None,
            "p99": latency.p99 if latency else None,
            "client CPU": section.client_cpu_us_per_request,
            "Redis CPU": section.redis_cpu_us_per_request,
        }
        return values[self.label]


MEASURES = (
    Measure("p50", "µs"),
    Measure("p99", "µs"),
    Measure("client CPU", "µs/req"),
    Measure("Redis CPU", "µs/req"),
)


@dataclass(frozen=True)
class TlsCost:
    """Each measured strategy's sections over TLS and in the clear, and those left out (with why)."""

    pairs: dict[str, tuple[StrategySummary, StrategySummary]]  # strategy -> (clear, tls)
    left_out: dict[str, str]

    def table(self) -> tuple[list[str], list[list[str]]]:
        """Header and rows: one row per measure, a clear and a TLS column per strategy."""
        header = ["per request"] + [f"{s}, {side}" for s in self.pairs for side in ("clear", "TLS")]
        rows = [
            [f"{m.label} ({m.unit})"]
            + [fmt_count(m.of(section)) for pair in self.pairs.values() for section in pair]
            for m in MEASURES
        ]
        return header, rows

    def line(self) -> str:
        """The one-line finding: what TLS added to each strategy, and to the naive/cached ratio."""
        said = []
        for name, (clear, tls) in self.pairs.items():
            added = [
                f"{_signed(_minus(m.of(tls), m.of(clear)))} µs {m.label}"
                for m in MEASURES
                if m.label in ("client CPU", "Redis CPU")
            ]
            p50 = MEASURES[0]
            said.append(
                f"{name} {' and '.join(added)} per request, p50 {fmt_count(p50.of(clear))} → "
                f"{fmt_count(p50.of(tls))} µs"
            )
        if set(STRATEGIES) <= set(self.pairs):
            for m in MEASURES[2:]:
                before = ratio(m.of(self.pairs["naive"][0]), m.of(self.pairs["cached"][0]))
                after = ratio(m.of(self.pairs["naive"][1]), m.of(self.pairs["cached"][1]))
                if before is not None and after is not None:
                    said.append(f"naive/cached {m.label} {before:.1f}x → {after:.1f}x")
        said += [f"{name} not compared ({why})" for name, why in self.left_out.items()]
        return "TLS: " + "; ".join(said) if said else "TLS: nothing to compare"


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+,.0f}"


def tls_cost(tls: Summary, clear: Summary) -> TlsCost:
    """The run's naive and cached sections paired with the clear baseline's."""
    pairs: dict[str, tuple[StrategySummary, StrategySummary]] = {}
    left_out: dict[str, str] = {}
    for name in STRATEGIES:
        secure, plain = tls.strategies.get(name), clear.strategies.get(name)
        if secure is None or plain is None:
            continue
        invalid = [
            f"{side} run not valid: {s.invalid_reason}"
            for side, s in (("TLS", secure), ("clear", plain))
            if s.valid is False
        ]
        if invalid:
            left_out[name] = "; ".join(invalid)
        else:
            pairs[name] = (plain, secure)
    return TlsCost(pairs, left_out)
