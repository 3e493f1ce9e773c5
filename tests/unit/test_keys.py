"""Key names: the seed's exact names without tags, hash tags in the right place with them."""

from __future__ import annotations

from dataclasses import replace

import pytest
from redis.cluster import key_slot

from bench.cache.formats import FORMATS, cache_node_keys
from bench.errors import UsageError
from bench.keys import Keys
from bench.topology import Endpoint, Topology


def topology(shard_tags: list[str | None], global_tag: str | None) -> Topology:
    shards = [
        Endpoint(f"shard-{i}", "shard", f"redis://h:{7000 + i}", key_tag=t) for i, t in enumerate(shard_tags)
    ]
    cache = Endpoint("cache", "cache", "redis://h:6999")
    return Topology("test", shards, cache, owns_data=False, global_tag=global_tag)


def every_global_key(keys: Keys) -> list[str]:
    return [*cache_node_keys(keys), keys.cache, keys.cache_tmp("0123abcd")]


def test_untagged_names_are_exactly_the_seeds() -> None:
    # The performance gate compares bytes per request exactly: these must not change by a byte.
    keys = Keys().on(topology([None, None], None))
    assert keys.shards_on(topology([None, None], None)) == ["leaderboard", "leaderboard"]
    assert keys.cache == "leaderboard:global:cache"
    assert keys.global_set == "leaderboard:global"
    assert keys.cache_meta == "leaderboard:global:cache:meta"
    assert keys.cache_tmp("abc") == "leaderboard:global:cache:tmp:abc"
    assert {f.name: f.key(keys) for f in FORMATS.values()} == {
        "zset": "leaderboard:global:cache",
        "blob": "leaderboard:global:cache:blob",
        "hist": "leaderboard:global:cache:hist",
    }
    assert Keys("lb").cache_key(":blob") == "lb:global:cache:blob"


def test_shard_keys_carry_their_endpoints_tag() -> None:
    topo = topology(["a", "b", "c"], "g")
    assert Keys().shards_on(topo) == ["leaderboard:{a}", "leaderboard:{b}", "leaderboard:{c}"]
    assert [key_slot(k.encode()) for k in Keys().shards_on(topo)] == [key_slot(t.encode()) for t in "abc"]


def test_global_keys_carry_the_global_tag_and_share_one_slot() -> None:
    keys = Keys().on(topology(["a"], "g"))
    assert keys.cache == "leaderboard:{g}:global:cache"
    assert keys.global_set == "leaderboard:{g}:global"
    assert keys.cache_meta == "leaderboard:{g}:global:cache:meta"
    assert keys.cache_tmp("t") == "leaderboard:{g}:global:cache:tmp:t"
    names = every_global_key(keys)
    assert all("{g}" in name for name in names)
    assert {key_slot(name.encode()) for name in names} == {key_slot(b"g")}


def test_on_follows_the_topology() -> None:
    tagged = Keys().on(topology(["a"], "g"))
    assert tagged.on(topology([None], None)) == Keys()
    assert replace(tagged, global_tag=None).cache == "leaderboard:global:cache"


@pytest.mark.parametrize(("prefix", "tag"), [("lb{x}", "a"), ("lb", ""), ("lb", "a}b"), ("lb", "{a")])
def test_tags_that_would_land_elsewhere_are_refused(prefix: str, tag: str) -> None:
    with pytest.raises(UsageError):
        Keys(prefix).shard_on(Endpoint("shard-0", "shard", "redis://h:1", key_tag=tag))


def test_load_config_carries_the_tags() -> None:
    topo = topology(["a", None], "g")
    again = Topology.from_load_config(topo.to_load_config())
    assert [e.key_tag for e in again.shards] == ["a", None]
    assert again.global_tag == "g"
    plain = Topology.from_load_config(topology([None, None], None).to_load_config())
    assert [e.key_tag for e in plain.shards] == [None, None]
    assert plain.global_tag is None
