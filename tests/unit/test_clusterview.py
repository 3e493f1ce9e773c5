"""The report's Redis Cluster section, from meta.json's slot map and the summary (no server)."""

from __future__ import annotations

from analysis.render.cluster import cluster_section
from tests.unit.sample_summary import typed

META = {
    "topology": {
        "provider": "cluster",
        "cluster": {
            "global_tag": "lbbench-global",
            "cache_node": "shard-1",
            "require_full_coverage": False,
            "allow_reads_when_down": True,
            "slot_map": [
                {"node": "shard-0", "url": "redis://127.0.0.1:7000", "slots": [[0, 8191]], "key_tag": "3",
                 "replicas": []},
                {"node": "shard-1", "url": "redis://127.0.0.1:7001", "slots": [[8192, 16383]], "key_tag": "0",
                 "replicas": ["redis://127.0.0.1:7002"]},
            ],
        },
    }
}  # fmt: skip
STRATEGIES = typed(
    {
        "strategies": {
            "naive": {"nodes_per_request": 2, "redis_commands_per_request": 2.0, "per_node": {}},
            "cached": {"per_node": {"shard-0": {"ops_per_s": 0.2}, "shard-1": {"ops_per_s": 480.0}}},
        }
    }
).strategies


def test_the_slot_map_and_what_the_cluster_changes_are_reported() -> None:
    title, intro, table, said = cluster_section(META, STRATEGIES)
    assert title == "## Redis Cluster"
    assert "`{lbbench-global}`" in intro
    assert "shard-1" in intro
    assert "`cluster-require-full-coverage no`" in intro
    assert "| shard-0 | `redis://127.0.0.1:7000` | 0-8191 | 50.0% | `{3}` | none | shard key |" in table
    assert (
        "| shard-1 | `redis://127.0.0.1:7001` | 8192-16383 | 50.0% | `{0}` | `redis://127.0.0.1:7002` |"
        in table
    )
    assert "shard key + global keys" in table
    assert "2 masters, and each naive request reached 2 nodes (2.00 commands per request)" in said
    assert "that master served 480.0 ops/s, the other masters at most 0.2" in said


def test_no_cluster_no_section() -> None:
    assert cluster_section({"topology": {"provider": "local"}}, STRATEGIES) == []
    assert cluster_section({}, STRATEGIES) == []
