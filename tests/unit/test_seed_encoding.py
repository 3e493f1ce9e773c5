"""Seeding's pure parts: sorted-set order keys, per-shard sets, DUMP payloads, progress lines."""

from __future__ import annotations

import time

import anycrc
import numpy as np
import pytest

from bench import console
from bench.seeding.data import CHUNK_PLAYERS, chunk_scores
from bench.seeding.rdb import RDB_TYPE_ZSET_2, RDB_VERSION, payload_bytes, zset_payload
from bench.seeding.shardsets import MAX_PLAYERS, ShardSets, order_keys, split_keys
from bench.wire.keyslot import shards_of
from tests.oracle import all_scores

EDGE_IDS = [0, 1, 9, 10, 11, 19, 2, 99, 100, 101, 999, 1000, 10**8, 10**8 + 1, MAX_PLAYERS - 1]


def redis_order(ids: list[int], scores: list[int]) -> list[tuple[int, bytes]]:
    """How a sorted set orders these members: by score, then by member bytes."""
    return sorted(zip(scores, (str(i).encode() for i in ids), strict=True))


def test_order_keys_sort_like_a_sorted_set_and_decode_back() -> None:
    rng = np.random.default_rng(3)
    ids = np.concatenate([np.array(EDGE_IDS), rng.choice(MAX_PLAYERS, 20_000, replace=False)])
    ids = np.unique(ids)
    scores = rng.integers(0, 4, len(ids))  # few distinct scores: ties are decided by member bytes
    keys = order_keys(ids, scores)
    order = np.argsort(keys)
    got = list(zip(scores[order].tolist(), (str(i).encode() for i in ids[order]), strict=True))
    assert got == redis_order(ids.tolist(), scores.tolist())
    back_ids, back_scores = split_keys(keys)
    assert back_ids.tolist() == ids.tolist()
    assert back_scores.tolist() == scores.tolist()


@pytest.mark.parametrize(("ids", "scores"), [([MAX_PLAYERS], [0]), ([-1], [0]), ([1], [-1]), ([1], [2**30])])
def test_order_keys_reject_what_does_not_fit(ids: list[int], scores: list[int]) -> None:
    with pytest.raises(ValueError, match="must lie in"):
        order_keys(np.array(ids), np.array(scores))


def test_shard_sets_hand_out_each_shards_players_highest_first() -> None:
    sets = ShardSets(3, everyone=True)
    all_ids, all_scores = np.arange(5000), np.random.default_rng(1).integers(0, 50, 5000)
    for start, stop in ((0, 2000), (2000, 5000)):  # two chunks, as generation adds them
        ids = all_ids[start:stop]
        sets.add(ids, all_scores[start:stop], shards_of(ids, 3))
    owners = shards_of(all_ids, 3)
    assert [sets.size(i) for i in range(4)] == [*np.bincount(owners, minlength=3).tolist(), 5000]
    for index in range(4):
        mine = all_ids if index == 3 else all_ids[owners == index]
        ids, scores = sets.take(index)
        expected = redis_order(mine.tolist(), all_scores[mine].tolist())[::-1]
        assert list(zip(scores.tolist(), (str(i).encode() for i in ids), strict=True)) == expected
        assert sets.size(index) == 0, "take() frees the set"


def test_chunks_computed_on_their_own_equal_the_sequential_stream() -> None:
    players = 2 * CHUNK_PLAYERS + 12_345
    expected = all_scores(players, 42)
    for first_id, count in [(0, 10), (CHUNK_PLAYERS, CHUNK_PLAYERS), (2 * CHUNK_PLAYERS, 12_345), (777, 5)]:
        assert chunk_scores(42, first_id, count).tolist() == expected[first_id : first_id + count].tolist()


def parse_payload(payload: bytes) -> tuple[list[int], list[float]]:
    """Decode a sorted-set DUMP payload of int32-encoded members, checking its framing and CRC."""
    assert payload[0] == RDB_TYPE_ZSET_2
    assert int.from_bytes(payload[-10:-8], "little") == RDB_VERSION
    assert int.from_bytes(payload[-8:], "little") == anycrc.Model("CRC64-REDIS").calc(payload[:-8])
    first = payload[1]
    if first >> 6 == 0:
        count, at = first, 2
    elif first >> 6 == 1:
        count, at = ((first & 0x3F) << 8) | payload[2], 3
    else:
        assert first == 0x80
        count, at = int.from_bytes(payload[2:6], "big"), 6
    records = np.frombuffer(payload[at:-10], dtype=[("enc", "u1"), ("member", "<i4"), ("score", "<f8")])
    assert len(records) == count
    assert (records["enc"] == 0xC2).all()  # RDB_ENC_INT32
    return records["member"].tolist(), records["score"].tolist()


@pytest.mark.parametrize("count", [1, 63, 64, 16383, 16384, 70000])
def test_zset_payload_frames_every_member_in_order(count: int) -> None:
    ids = np.arange(count, dtype=np.int64)[::-1] * 7
    scores = np.arange(count, dtype=np.int64) * 1000
    payload = zset_payload(ids, scores).tobytes()
    assert len(payload) == payload_bytes(count)
    members, got_scores = parse_payload(payload)
    assert members == ids.tolist()
    assert got_scores == scores.astype(float).tolist()


def test_crc64_is_the_one_redis_checks_dumps_with() -> None:
    # crc64.c's self-test vector in the Redis source.
    assert anycrc.Model("CRC64-REDIS").calc(b"123456789") == 0xE9C6D914C4B8D9CA


@pytest.mark.parametrize(("ids", "message"), [([], "empty"), ([2**31], "member ids"), ([-1], "member ids")])
def test_zset_payload_rejects_what_redis_could_not_store(ids: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        zset_payload(np.array(ids, dtype=np.int64), np.zeros(len(ids), dtype=np.int64))


def test_count_progress_prints_status_lines_off_a_terminal_even_when_counts_stand_still(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(console, "PLAIN_PROGRESS_EVERY_S", 0.01)
    with console.CountProgress("seeding", {"generated": 10, "stored": 10}, "players") as progress:
        progress.advance("generated", 10)
        progress.advance("stored", 4)
        time.sleep(0.2)  # nothing advances meanwhile: the lines must keep coming
    lines = [line for line in capsys.readouterr().err.splitlines() if "seeding:" in line]
    assert len(lines) >= 3
    assert "seeding: generated 10/10, stored 4/10 players" in lines[-1]
