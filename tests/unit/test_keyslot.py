"""Player -> shard mapping agrees with Redis Cluster's key slots."""

from __future__ import annotations

import numpy as np
import pytest

from bench.wire.keyslot import SLOTS, crc16, key_slot, shard_of, shard_of_slot, shards_of


@pytest.mark.parametrize(
    ("key", "slot"),
    # Values from CLUSTER KEYSLOT on a real cluster / the Redis Cluster specification.
    [(b"foo", 12182), (b"bar", 5061), (b"hello", 866), (b"{user1000}.following", 3443), (b"user1000", 3443)],
)
def test_key_slot_matches_redis(key: bytes, slot: int) -> None:
    assert key_slot(key) == slot


def test_crc16_reference_vector() -> None:
    # The Redis Cluster spec's test vector for CRC16-XMODEM.
    assert crc16(b"123456789") == 0x31C3


def test_empty_hash_tag_hashes_the_whole_key() -> None:
    assert key_slot(b"{}foo") == crc16(b"{}foo") % SLOTS


def test_vectorised_mapping_equals_scalar_mapping() -> None:
    ids = np.concatenate([np.arange(0, 5000), np.array([9, 10, 99, 100, 10**9, 2**62])])
    for shards in (1, 3, 10):
        expected = [shard_of(int(i), shards) for i in ids]
        assert shards_of(ids, shards).tolist() == expected


def test_vectorised_mapping_at_digit_boundaries_and_large_ids() -> None:
    # The vectorised CRC splits an id into its last three digits and the rest: check where that matters.
    boundaries = [10**k + d for k in range(1, 13) for d in (-2, -1, 0, 1, 2)]
    rng = np.random.default_rng(5)
    ids = np.array(boundaries + rng.integers(0, 10**12, 3000).tolist() + [1001, 1000007, 10**6 + 999])
    assert shards_of(ids, 16384).tolist() == [key_slot(str(int(i)).encode()) for i in ids]


def test_slot_ranges_are_contiguous_and_cover_all_shards() -> None:
    owners = [shard_of_slot(s, 10) for s in range(SLOTS)]
    assert owners == sorted(owners)
    assert set(owners) == set(range(10))
    counts = np.bincount(owners)
    assert counts.max() - counts.min() <= 1


def test_players_spread_evenly() -> None:
    counts = np.bincount(shards_of(np.arange(100_000), 10), minlength=10)
    assert counts.min() > 9_500
    assert counts.max() < 10_500


def test_negative_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        shards_of(np.array([-1]), 10)
