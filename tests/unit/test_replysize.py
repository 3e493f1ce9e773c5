"""The seeded data's reply sizes, against RESP2 written out by hand; the loadgen image's redis-benchmark."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.images.bundled import LOADER, REDIS_BENCHMARK, bundled_tool
from bench.seeding.data import chunk_scores
from bench.seeding.replysize import reply_sizes
from bench.wire.keyslot import shards_of


def resp(entries: list[tuple[int, int]]) -> int:
    """ZRANGE ... WITHSCORES in RESP2, byte for byte."""
    out = f"*{2 * len(entries)}\r\n"
    for player, score in entries:
        out += f"${len(str(player))}\r\n{player}\r\n${len(str(score))}\r\n{score}\r\n"
    return len(out.encode())


def top(entries: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    return sorted(entries, key=lambda e: (e[1], e[0]), reverse=True)[:n]


def test_reply_sizes_are_the_resp_bytes_of_each_shards_top_n_and_the_global_top_n() -> None:
    players, shards, seed, n = 3_000, 3, 7, 20
    ids = np.arange(players)
    everyone = list(zip(ids.tolist(), chunk_scores(seed, 0, players).tolist(), strict=True))
    owner = shards_of(ids, shards).tolist()
    per_shard = [top([e for e, o in zip(everyone, owner, strict=True) if o == s], n) for s in range(shards)]
    sizes = reply_sizes(players, shards, seed, n)
    assert sizes.shards_top_n == sum(resp(entries) for entries in per_shard)
    assert sizes.global_top_n == resp(top(everyone, n))


def test_the_images_redis_benchmark_runs_through_its_own_loader(tmp_path: Path) -> None:
    assert bundled_tool(tmp_path) is None  # not in the image: nothing to run
    (tmp_path / "bin").mkdir()
    (tmp_path / "lib").mkdir()
    (tmp_path / "bin" / REDIS_BENCHMARK).write_bytes(b"")
    (tmp_path / "lib" / LOADER).write_bytes(b"")
    loader, flag, lib, binary = bundled_tool(tmp_path) or ()
    assert (loader, flag, lib) == (str(tmp_path / "lib" / LOADER), "--library-path", str(tmp_path / "lib"))
    assert binary == str(tmp_path / "bin" / REDIS_BENCHMARK)
