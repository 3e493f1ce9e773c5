"""The network model's flags: how often a read's parts are timed, and the user's own RTT profiles."""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis.netprofiles import ProfileError, RttProfile, parse_profile
from bench.wire.replytimes import SAMPLE_EVERY


def rtt_profile(text: str) -> RttProfile:
    """``--rtt-profile FILE``: the parsed profile, or argparse's one-line error (exit 2)."""
    try:
        return parse_profile(Path(text))
    except ProfileError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _reads(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of reads >= 1")
    return value


def add_network_arguments(p: argparse.ArgumentParser) -> None:
    """--sample-every and --rtt-profile (docs/network-model.md)."""
    p.add_argument(
        "--sample-every",
        type=_reads,
        default=SAMPLE_EVERY,
        help=f"time the parts of one read in this many per user: each shard's reply, the merge, the cached"
        f" read's service time (default {SAMPLE_EVERY}; the network projection's input)",
    )
    p.add_argument(
        "--rtt-profile",
        type=rtt_profile,
        action="append",
        default=[],
        metavar="FILE",
        help="project the run onto your own round-trip-time quantiles too (TOML; docs/network-model.md)",
    )
