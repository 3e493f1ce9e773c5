"""Verdicts that rest on per-node capacity (summary.json ``capacity``): claims g, q and v.

Each returns ``(measured, projected, verdict, reason)`` for the caller's Claim, or None where the run
has no capacity figure for it (the caller then keeps its own reading, usually "not measurable here").
"""

from __future__ import annotations

import math

from analysis.fmt import fmt_count
from analysis.verdicts.verdict import Verdict
from runfiles.summary import Capacity, CapacityCommand, NaiveAtPeak

Found = tuple[str, str, Verdict, str]
OVERLOAD_CLAIM = 'Scale issues: "Redis cluster overload during peak hours"'
NO_PROBE = "no capacity probe in this run"


def probed(capacity: Capacity | None, command: str) -> CapacityCommand:
    """One command's figures (each None: not probed, or the probe was unavailable)."""
    commands = (capacity.commands if capacity else None) or {}
    return commands.get(command) or CapacityCommand()


def why_not(capacity: Capacity | None, command: str) -> str:
    """Why there is no capacity figure for ``command``."""
    reason = probed(capacity, command).reason or (capacity.reason if capacity else None)
    return str(reason or NO_PROBE)


def capacity_text(figures: CapacityCommand) -> str:
    """What one node served of a command at p99 within the limit, and per server core."""
    return (
        f"one node: {fmt_count(figures.rps_per_node)} req/s at p99"
        f" {fmt_count(figures.latency_ms_p99, 3)} ms (redis-benchmark -c"
        f" {fmt_count(figures.clients)}); {fmt_count(figures.rps_per_server_core)} req/s per"
        " server core"
    )


def scalable_verdict(capacity: Capacity | None, target_rps: float) -> Found | None:
    """Claim g: does one node serve ``target_rps`` cached reads with p99 <= 1 ms?"""
    zset = probed(capacity, "zset")
    node_rps, core_rps = zset.rps_per_node, zset.rps_per_server_core
    if node_rps is None:
        return None
    projected = (
        f"{math.ceil(target_rps / node_rps)} node(s) for {fmt_count(target_rps)} req/s at the per-node figure"
    )
    if node_rps >= target_rps:
        return (
            capacity_text(zset),
            projected,
            Verdict.HOLDS,
            f"one node served {fmt_count(target_rps)}+ req/s",
        )
    cores = fmt_count(capacity.cpu_count if capacity else None)
    if core_rps is not None and core_rps >= target_rps:
        reason = (
            f"the node has a core of its own: here the client shared the {cores} cores with it, and one"
            f" server core's worth of CPU serves {fmt_count(core_rps)} req/s"
        )
        return capacity_text(zset), projected, Verdict.HOLDS_ONLY_IF, reason
    reason = f"below {fmt_count(target_rps)} req/s per node and per server core here ({cores} cores shared)"
    return capacity_text(zset), projected, Verdict.DOES_NOT_HOLD, reason


def peak_verdict(capacity: Capacity | None, peak_rps: float, here: str) -> Found | None:
    """Claim q: does one cache node take the seed's peak without p99 passing 1 ms?"""
    zset = probed(capacity, "zset")
    node_rps = zset.rps_per_node
    if node_rps is None:
        return None
    verdict = Verdict.HOLDS if node_rps >= peak_rps else Verdict.DOES_NOT_HOLD
    reason = (
        f"one cache node serves {node_rps / peak_rps:,.1f}x the {fmt_count(peak_rps)} req/s peak with p99"
        f" ≤ 1 ms (compiled client); {here}"
    )
    return capacity_text(zset), "", verdict, reason


def overload_verdict(capacity: Capacity | None, peak_rps: float) -> Found:
    """Claim v: naive's shards at the seed's peak against what one shard serves at p99 <= 1 ms."""
    shard = probed(capacity, "shard")
    shard_rps = shard.rps_per_node
    peak = (capacity.naive_at_seed_peak if capacity else None) or NaiveAtPeak()
    share = peak.shard_share_of_capacity
    if shard_rps is None or share is None:
        return "n/a", "n/a", Verdict.NOT_MEASURABLE, f"no per-shard capacity: {why_not(capacity, 'shard')}"
    projected = (
        f"at {fmt_count(peak_rps)} req/s every shard takes {fmt_count(peak_rps)} reads/s = {share:.0%} of its"
        f" capacity; {fmt_count(peak.nodes_needed)} nodes for the"
        f" {fmt_count(peak.shard_reads_per_s)} shard reads/s"
    )
    if share >= 1:
        reason = (
            "the seed's peak is more than a shard serves with p99 ≤ 1 ms: every request reads every shard"
        )
        return capacity_text(shard), projected, Verdict.HOLDS, reason
    reason = (
        f"peak traffic passes {fmt_count(shard_rps)} req/s ({1 / share:,.1f}x the seed's peak): each user"
        " request reads every shard, so adding shards adds no read capacity (the cached read uses one node)"
    )
    return capacity_text(shard), projected, Verdict.HOLDS_ONLY_IF, reason
