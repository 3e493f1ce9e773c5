"""Every strategy on hash-tagged keys (a cluster's key layout), served by spawned plain servers.

The shards are a normal local topology whose endpoints get distinct ``key_tag``s (each one a tag
whose slot lies in that shard's range, as a cluster would assign it) plus a ``global_tag``: every
read, write, refresh, probe, seeding and clearing must then use the tagged names only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from itertools import count
from pathlib import Path

import pytest
from redis.cluster import key_slot

from analysis.figures.summary import build_summary
from bench.cache.formats import FORMATS
from bench.cache.refresher import CacheRefresher
from bench.keys import Keys
from bench.probes.rankcheck import rank_check
from bench.probes.staleness import StalenessProbe
from bench.probes.telemetry import key_memory_bytes
from bench.run.compare import seed_and_run
from bench.run.options import CompareOptions
from bench.run.writemodel import hot_players
from bench.seeding.seed import clear, existing_keys, seed
from bench.strategies import REGISTRY
from bench.topology import Endpoint, Topology, TopologyOptions, open_topology
from bench.wire.keyslot import shard_of_slot
from runfiles import RunFiles
from tests.oracle import oracle_top

PLAYERS = 5_000
SEED = 11
SHARDS = 4
GLOBAL_TAG = "lbglobal"


def slot_tags(shards: int) -> list[str]:
    """For shard i, the first ``s<j>`` whose slot lies in shard i's contiguous slot range."""
    tags: list[str] = []
    for i in range(shards):
        tags.append(next(t for j in count() if shard_of_slot(key_slot((t := f"s{j}").encode()), shards) == i))
    return tags


@pytest.fixture(scope="module", params=["tagged-servers", "cluster"])
def tagged(server_bin: str, request: pytest.FixtureRequest) -> Iterator[Topology]:
    if request.param == "cluster":
        # A real Redis Cluster: the provider picks the tags; a key on the wrong node would be MOVED.
        options = TopologyOptions(provider="cluster", shards=SHARDS, server_bin=server_bin)
        with open_topology(options) as cluster:
            seed(cluster, Keys(), PLAYERS, SEED, global_set=True)
            yield cluster
        return
    with open_topology(TopologyOptions(shards=SHARDS, server_bin=server_bin)) as plain:
        shards = [replace(e, key_tag=tag) for e, tag in zip(plain.shards, slot_tags(SHARDS), strict=True)]
        topology = Topology(
            plain.provider, shards, plain.cache, owns_data=True, server=plain.server, global_tag=GLOBAL_TAG
        )
        seed(topology, Keys(), PLAYERS, SEED, global_set=True)
        yield topology


def all_rows(topology: Topology) -> list[tuple[bytes, float]]:
    rows: list[tuple[bytes, float]] = []
    for endpoint in topology.shards:
        with endpoint.client() as client:
            rows += client.zrange(Keys().shard_on(endpoint), 0, -1, withscores=True)
    return rows


def keys_on(topology: Topology) -> dict[str, set[bytes]]:
    found = {}
    for endpoint in topology.nodes:
        with endpoint.client() as client:
            found[endpoint.name] = set(client.keys("*"))
    return found


def refresh(topology: Topology, name: str) -> None:
    formats = REGISTRY[name].cache_formats
    if formats:
        with_refresher = CacheRefresher(topology, Keys(), formats)
        try:
            assert with_refresher.refresh().ok
        finally:
            with_refresher.close()


def test_tags_are_distinct_and_in_their_shards_slot_range() -> None:
    tags = slot_tags(SHARDS)
    assert len(set(tags)) == SHARDS
    names = [Keys().shard_on(Endpoint("shard", "shard", "redis://h:1", key_tag=t)) for t in tags]
    assert [shard_of_slot(key_slot(name.encode()), SHARDS) for name in names] == list(range(SHARDS))


def global_keys(topology: Topology, keys: set[bytes]) -> set[bytes]:
    """The keys under the topology's global tag (in a cluster the cache node is also a shard)."""
    return {k for k in keys if f"{{{topology.global_tag}}}".encode() in k}


def test_seeding_writes_only_tagged_keys(tagged: Topology) -> None:
    assert len(all_rows(tagged)) == PLAYERS
    found = keys_on(tagged)
    for endpoint in tagged.shards:
        shard_keys = found[endpoint.name] - global_keys(tagged, found[endpoint.name])
        assert shard_keys == {f"leaderboard:{{{endpoint.key_tag}}}".encode()}
    assert global_keys(tagged, found["cache"]) == {f"leaderboard:{{{tagged.global_tag}}}:global".encode()}


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_strategy_serves_the_oracle_top_on_tagged_keys(tagged: Topology, name: str) -> None:
    refresh(tagged, name)
    strategy = REGISTRY[name](tagged, Keys())
    try:
        assert strategy.top(100).rows() == oracle_top(all_rows(tagged), 100)
        assert strategy.read(100).rows() == oracle_top(all_rows(tagged), 100)
    finally:
        strategy.close()


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_strategy_ranks_on_tagged_keys(tagged: Topology, name: str) -> None:
    refresh(tagged, name)
    record = rank_check(tagged, Keys(), name, PLAYERS, SEED)
    assert None not in record["rank"]
    if REGISTRY[name].rank_is_exact:
        assert record["rank"] == record["exact_rank"]


@pytest.mark.parametrize("name", ["naive", "incremental", "global"])
def test_writes_land_on_the_tagged_keys(tagged: Topology, name: str) -> None:
    refresh(tagged, name)
    strategy = REGISTRY[name](tagged, Keys())
    player = 4321
    before = strategy.shards.score(player)
    assert before is not None
    try:
        assert strategy.submit(player, 10.0**9) == before + 10.0**9
        assert strategy.top(1).rows() == [(b"4321", before + 10.0**9)]
        assert strategy.rank(player) == 1
        assert strategy.top(100).rows() == oracle_top(all_rows(tagged), 100)
    finally:
        strategy.submit(player, -(10.0**9))
        strategy.close()
    refresh(tagged, "incremental")


def test_a_load_generator_sees_the_same_tags(tagged: Topology) -> None:
    # What a Locust process gets: the topology through its load config.
    view = Topology.from_load_config(tagged.to_load_config())
    strategy = REGISTRY["naive"](view, Keys())
    try:
        assert strategy.top(10).rows() == oracle_top(all_rows(tagged), 10)
    finally:
        strategy.close()


def test_probes_and_write_model_read_the_tagged_keys(tagged: Topology) -> None:
    refresh(tagged, "regional")
    probe = StalenessProbe(tagged, Keys(), "cached", top_n=100)
    try:
        probe.sample()
    finally:
        probe.close()
    (row,) = probe.rows
    assert (row["error"], row["entries_differ"], row["max_rank_displacement"]) == ("", 0, 0)
    assert row["cache_age_s"] is not None
    expected = [(int(member), score) for member, score in oracle_top(all_rows(tagged), 50)]
    assert hot_players(tagged, Keys(), 50) == expected
    sizes = key_memory_bytes(tagged, Keys())
    assert all(sizes[e.name] > 0 for e in tagged.shards)
    assert sizes["global_set"] > 0
    assert all(sizes[f.memory_label] > 0 for f in FORMATS.values() if f.name in ("zset", "hist"))


def test_every_key_on_the_servers_is_tagged_and_clearing_removes_them(tagged: Topology) -> None:
    for name in REGISTRY:
        refresh(tagged, name)
    found = keys_on(tagged)
    cache_keys = global_keys(tagged, found["cache"])
    tag = tagged.global_tag
    assert cache_keys == {
        f"leaderboard:{{{tag}}}:global".encode(),
        f"leaderboard:{{{tag}}}:global:cache".encode(),
        f"leaderboard:{{{tag}}}:global:cache:blob".encode(),
        f"leaderboard:{{{tag}}}:global:cache:hist".encode(),
        f"leaderboard:{{{tag}}}:global:cache:meta".encode(),
    }
    assert {k for keys in found.values() for k in global_keys(tagged, keys)} == cache_keys
    assert len({key_slot(k) for k in cache_keys}) == 1
    assert all(b"leaderboard" not in keys for keys in found.values())
    assert all(not k.startswith(b"leaderboard:global") for keys in found.values() for k in keys)
    assert sorted(existing_keys(tagged, Keys())) == sorted(
        [f"{e.name}:leaderboard:{{{e.key_tag}}}" for e in tagged.shards]
        + [f"cache:{k.decode()}" for k in cache_keys]
    )
    clear(tagged, Keys())
    assert keys_on(tagged) == {e.name: set() for e in tagged.nodes}
    # Leave the module as seeded for any test that runs after this one.
    seed(tagged, Keys(), PLAYERS, SEED, global_set=True)


def test_regional_pages_read_each_region_from_its_tagged_key(tagged: Topology) -> None:
    refresh(tagged, "regional")
    strategy = REGISTRY["regional"](tagged, Keys())
    try:
        for region, endpoint in enumerate(tagged.shards):
            with endpoint.client() as client:
                own = client.zrange(Keys().shard_on(endpoint), 0, -1, withscores=True)
            assert len(own) > 0
            assert strategy.regional_top(region, 20).rows() == oracle_top(own, 20)
    finally:
        strategy.close()


def test_a_whole_run_of_every_strategy_on_tagged_keys(tagged: Topology, tmp_path: Path) -> None:
    # Locust processes reach the nodes through the load config: this is where they must carry the tags.
    options = CompareOptions(
        strategies=list(REGISTRY), players=PLAYERS, seed=SEED, duration_s=2, users=2, rps=50.0,
        read_write_ratio=10, refresh_interval_s=1.0,
    )  # fmt: skip
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    seed_and_run(tagged, options, RunFiles(run_dir), "tagged")
    summary = build_summary(run_dir).to_json()
    for name, figures in summary["strategies"].items():
        assert figures["requests"] > 0, name
        assert figures["failures"] == 0, name
        assert figures["writes"]["requests"] > 0, name
    assert summary["strategies"]["naive"]["nodes_per_request"] == SHARDS
    assert summary["strategies"]["cached"]["nodes_per_request"] == 1
    assert all(b"leaderboard" not in keys for keys in keys_on(tagged).values())
