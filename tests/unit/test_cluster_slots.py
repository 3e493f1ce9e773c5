"""The pure parts of the cluster provider: the even slot split and the hash tag each master owns."""

from __future__ import annotations

import itertools

import pytest
from redis.cluster import key_slot as redis_key_slot

from bench.errors import UsageError
from bench.topology import TopologyOptions, get_provider
from bench.topology.clusternodes import GLOBAL_TAG, key_tags
from bench.wire.keyslot import SLOTS, even_slot_ranges, shard_of_slot


@pytest.mark.parametrize("masters", [1, 2, 3, 7, 10, 64])
def test_even_split_covers_every_slot_once_and_matches_the_shard_mapping(masters: int) -> None:
    ranges = even_slot_ranges(masters)
    assert ranges[0][0] == 0
    assert ranges[-1][1] == SLOTS - 1
    assert all(prev[1] + 1 == nxt[0] for prev, nxt in itertools.pairwise(ranges))
    sizes = [hi - lo + 1 for lo, hi in ranges]
    assert max(sizes) - min(sizes) <= 1
    # The seeding's player -> shard mapping must put each slot on the master that owns it.
    for i, (lo, hi) in enumerate(ranges):
        assert shard_of_slot(lo, masters) == shard_of_slot(hi, masters) == i


def test_three_masters_split_like_redis_cli() -> None:
    assert even_slot_ranges(3) == [(0, 5461), (5462, 10922), (10923, 16383)]


@pytest.mark.parametrize("masters", [1, 3, 10, 64])
def test_each_tag_lands_on_its_master_and_is_the_shortest(masters: int) -> None:
    ranges = [((lo, hi),) for lo, hi in even_slot_ranges(masters)]
    tags = key_tags(ranges)
    for tag, ((lo, hi),) in zip(tags, ranges, strict=True):
        # redis-py's own key_slot as the independent check.
        assert lo <= redis_key_slot(tag.encode()) <= hi
    assert len(set(tags)) == masters
    assert key_tags([((0, SLOTS - 1),)]) == ["0"]
    assert max(len(t) for t in tags) <= 2


def test_a_master_with_one_slot_still_gets_a_tag() -> None:
    slot = redis_key_slot(GLOBAL_TAG.encode())
    (tag,) = key_tags([((slot, slot),)])
    assert redis_key_slot(tag.encode()) == slot


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (TopologyOptions(provider="cluster", replicas=9), "--replicas must be between 0 and 5, got 9"),
        (TopologyOptions(replicas=1), "--replicas applies to --provider cluster, not local"),
        (TopologyOptions(cluster_urls=("http://x",)), "bad Redis URL 'http://x'"),
        (
            TopologyOptions(provider="cluster", cluster_urls=("redis://h:1",)),
            "--cluster-url applies to --provider external-cluster, not cluster",
        ),
        (
            TopologyOptions(cluster_urls=("redis://h:1",), cache_url="redis://h:2"),
            "--cluster-url finds the shards and the cache itself",
        ),
        (TopologyOptions(provider="external-cluster"), "--provider external-cluster needs --cluster-url"),
    ],
)
def test_bad_cluster_options_are_one_line(options: TopologyOptions, message: str) -> None:
    with pytest.raises(UsageError, match="^" + message):
        get_provider(options)
