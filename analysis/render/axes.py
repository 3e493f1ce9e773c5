"""Numbers on plots as people read them: 27.6 MB/s, not 2.76e+07; 6 on a log axis, not 6 times 10^0."""

from __future__ import annotations

from matplotlib.axis import Axis
from matplotlib.ticker import LogFormatter

_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))
#: From here up a number takes an SI prefix; below it is written out (9,999).
PREFIX_FROM = 10_000


def readable(value: float, unit: str = "") -> str:
    """Three significant digits, with an SI prefix from 10,000 up: (27_600_000, "B/s") -> ``27.6 MB/s``,
    (1234, "/s") -> ``1,234/s``, 0.25 -> ``0.25``. A unit that starts with "/" is a count per something
    and joins without a space (``12.3k/s``)."""
    magnitude, prefix = abs(value), ""
    number = f"{value:,.0f}" if magnitude >= 100 else f"{value:.3g}"
    if magnitude >= PREFIX_FROM:
        # The largest prefix the value reaches once rounded to three digits (999,600 is 1 M, not 1,000 k).
        scale, prefix = next((s, p) for s, p in _PREFIXES if magnitude >= s * 0.9995)
        number = f"{value / scale:.3g}"
    if unit.startswith("/"):
        return f"{number}{prefix}{unit}"
    return f"{number} {prefix}{unit}".rstrip()


class _ReadableLog(LogFormatter):
    """matplotlib's choice of which log ticks get a label, with our numbers on them."""

    # LogFormatter's own hook for a label's text; the view limits it passes do not change ours.
    def _num_to_string(self, x: float, vmin: float, vmax: float) -> str:  # noqa: ARG002
        return readable(x)


def plain_log_ticks(axis: Axis) -> None:
    """Label a log axis's ticks 0.5, 2, 6, 10, 100, 27.6k (the unit lives in the axis label)."""
    axis.set_major_formatter(_ReadableLog(labelOnlyBase=False))
    axis.set_minor_formatter(_ReadableLog(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
