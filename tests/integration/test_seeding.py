"""Seeding on real servers: RESTORE where allowed, ZADD where not, the same data either way."""

from __future__ import annotations

import numpy as np

from bench.keys import Keys
from bench.seeding.seed import seed
from bench.topology import TopologyOptions, open_topology
from bench.wire.keyslot import shards_of
from tests.oracle import all_scores

PLAYERS = 300_000  # 100k per shard: a 1.3 MB payload, over the smallest proto-max-bulk-len (1 MB)


def test_refused_or_oversized_restore_falls_back_to_zadd(server_bin: str) -> None:
    keys = Keys()
    with open_topology(TopologyOptions(shards=3, server_bin=server_bin)) as topology:
        no_restore, small_bulk = topology.shards[1].client(), topology.shards[2].client()
        no_restore.execute_command("ACL", "SETUSER", "default", "-restore")
        small_bulk.config_set("proto-max-bulk-len", 1024 * 1024)
        no_restore.close()
        small_bulk.close()

        result = seed(topology, keys, PLAYERS, 11)

        assert result.restored_sets == 1
        scores = all_scores(PLAYERS, 11)
        owners = shards_of(np.arange(PLAYERS), 3)
        for index, endpoint in enumerate(topology.shards):
            client = endpoint.client()
            rows = client.zrange(keys.shard_on(endpoint), 0, -1, withscores=True)
            client.close()
            expected = {i: float(scores[i]) for i in np.flatnonzero(owners == index).tolist()}
            assert {int(m): s for m, s in rows} == expected, endpoint.name
        assert result.per_shard == np.bincount(owners, minlength=3).tolist()
        assert 50 < result.bytes_per_player < 150


def test_one_player_and_empty_shards(server_bin: str) -> None:
    keys = Keys()
    with open_topology(TopologyOptions(shards=4, server_bin=server_bin)) as topology:
        result = seed(topology, keys, 1, 3, global_set=True)
        assert sum(result.per_shard) == 1
        cache = topology.cache.client()
        assert cache.zrange(keys.global_set, 0, -1, withscores=True) == [(b"0", float(all_scores(1, 3)[0]))]
        cache.close()
