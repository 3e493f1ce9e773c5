"""The report's "Redis Cluster" section: the slot map, and what a cluster changes for the seed's claims."""

from __future__ import annotations

from typing import Any

from analysis.fmt import fmt_count, md_table
from runfiles.summary import NodeFigures, StrategySummary

SLOTS = 16384


def _slots_text(ranges: list[list[int]]) -> str:
    return ", ".join(f"{lo}-{hi}" for lo, hi in ranges)


def _slot_count(ranges: list[list[int]]) -> int:
    return sum(hi - lo + 1 for lo, hi in ranges)


def _slot_table(cluster: dict[str, Any]) -> str:
    header = ["node", "url", "slots", "share", "key tag", "replicas", "holds"]
    rows = []
    for entry in cluster.get("slot_map") or []:
        ranges = entry.get("slots") or []
        holds = "shard key" + (" + global keys" if entry.get("node") == cluster.get("cache_node") else "")
        rows.append(
            [
                str(entry.get("node")),
                f"`{entry.get('url')}`",
                _slots_text(ranges),
                f"{_slot_count(ranges) / SLOTS:.1%}",
                f"`{{{entry.get('key_tag')}}}`",
                ", ".join(f"`{url}`" for url in entry.get("replicas") or []) or "none",
                holds,
            ]
        )
    return md_table(header, rows, numeric=False)


def _consequences(cluster: dict[str, Any], strategies: dict[str, StrategySummary]) -> list[str]:
    masters = len(cluster.get("slot_map") or [])
    home = str(cluster.get("cache_node"))
    said = []
    naive = strategies.get("naive")
    if naive is not None:
        fanout = naive.nodes_per_request
        said.append(
            f"- **The naive fan-out is the number of masters:** {masters} masters, and each naive request"
            f" reached {fmt_count(fanout)} nodes ({fmt_count(naive.redis_commands_per_request, 2)}"
            " commands per request)."
        )
    for name in ("cached", "global"):
        section = strategies.get(name)
        if section is None:
            continue
        per_node = section.per_node or {}
        home_ops = (per_node.get(home) or NodeFigures()).ops_per_s
        others = max((v.ops_per_s or 0.0 for node, v in per_node.items() if node != home), default=0.0)
        said.append(
            f"- **{name}: one key on one master.** Its key lives under the hash tag"
            f" `{{{cluster.get('global_tag')}}}`, on {home}, which also holds a shard: that master served"
            f" {fmt_count(home_ops, 1)} ops/s, the other masters at most {fmt_count(others, 1)}."
            " Its RAM and its ops are that node's, on top of its shard."
        )
    said.append(_redirects(strategies))
    return said


def _attempts(section: StrategySummary) -> float:
    return (section.requests or 0.0) + (section.failures or 0.0)


def _redirects(strategies: dict[str, StrategySummary]) -> str:
    """Whether slots moved under the load: the MOVED/ASK replies each strategy's reads followed."""
    moved = {name: s.redirects_per_request or 0.0 for name, s in strategies.items()}
    if not any(moved.values()):
        return (
            "- **No redirections:** no read met a MOVED or ASK (no slot moved while the load ran);"
            " `redirects_per_request` is 0 for every strategy."
        )
    figures = ", ".join(
        f"{name} {rate:.4f} ({fmt_count(rate * _attempts(strategies[name]))} in all)"
        for name, rate in moved.items()
    )
    failures = ", ".join(f"{name} {fmt_count(s.failures)}" for name, s in strategies.items())
    return (
        "- **Slots moved under the load.** Each MOVED or ASK a read met was followed (MOVED: that"
        " connection moves to the slot's new master, as a cluster client refreshes its slot map; ASK:"
        f" the one command goes to the importing node). Redirects per request: {figures}."
        f" Failed requests meanwhile: {failures}. The moves' own traffic (MIGRATE carries each moved"
        " key to its new master) reached the nodes too, so the cross-check's Redis side counts it."
    )


def cluster_section(meta: dict[str, Any], strategies: dict[str, StrategySummary]) -> list[str]:
    """``## Redis Cluster`` with the slot map and its consequences; nothing for other topologies."""
    topology: dict[str, Any] = meta.get("topology") or {}
    cluster: dict[str, Any] | None = topology.get("cluster")
    if not cluster:
        return []
    coverage = (
        f"`cluster-require-full-coverage {'yes' if cluster.get('require_full_coverage') else 'no'}`,"
        f" `cluster-allow-reads-when-down {'yes' if cluster.get('allow_reads_when_down') else 'no'}`"
    )
    intro = (
        f"Provider `{topology.get('provider')}`: {len(cluster.get('slot_map') or [])} masters. Each shard's"
        " leaderboard is a hash-tagged key whose slot its master owns; every global key (cache, blob,"
        f" histogram, the single global set) shares the tag `{{{cluster.get('global_tag')}}}` and so one"
        f" node, {cluster.get('cache_node')}. Coverage settings on that node: {coverage}."
    )
    consequences = _consequences(cluster, strategies)
    return [
        "## Redis Cluster",
        intro,
        _slot_table(cluster),
        *(["\n".join(consequences)] if consequences else []),
    ]
