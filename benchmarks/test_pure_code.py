"""pytest-benchmark suite for pure code off the request path: cache encode/decode, report, gate.

There is no blob cache format yet: "encode" is packing the refresher's MULTI/ZADD/RENAME/HSET/EXEC
block for a top 1000 (the same command shapes as ``CacheRefresher._write``), "decode" is parsing
a top-n RESP2 reply with hiredis and turning it into rows (what a cached read or a refresh does).
"""

from __future__ import annotations

import random
import tomllib
from pathlib import Path
from typing import Any

import hiredis
import pytest
from pytest_benchmark.fixture import BenchmarkFixture
from redis.connection import Connection

from analysis.figures.summary import build_summary
from analysis.gate.baseline import Measured
from analysis.gate.checks import parse_checks
from analysis.gate.evaluate import evaluate
from analysis.gate.report import gate_document, gate_table
from analysis.render.report import render_report
from bench.keys import Keys
from bench.wire.merge import Ranking, merge_top
from tests.unit.sample_summary import META, make_summary
from tests.unit.synthetic_run import Redis, steady_worker, write_run

PERF_GATE = Path(__file__).resolve().parent.parent / ".ci" / "perf-gate.toml"


def top_rows(n: int, seed: int = 3) -> list[tuple[float, bytes]]:
    """n (score, member) rows, best first, with scores of the size the Lomax seeding gives."""
    rng = random.Random(seed)
    return sorted(
        ((float(rng.randrange(10**8)), str(rng.randrange(10**6)).encode()) for _ in range(n)), reverse=True
    )


def resp2_reply(rows: list[tuple[float, bytes]]) -> bytes:
    """``ZRANGE ... REV WITHSCORES`` as a RESP2 server sends it: a flat array of member, score."""
    parts = [f"*{2 * len(rows)}\r\n".encode()]
    for score, member in rows:
        text = repr(score).removesuffix(".0").encode()
        parts += [b"$%d\r\n%s\r\n" % (len(member), member), b"$%d\r\n%s\r\n" % (len(text), text)]
    return b"".join(parts)


def test_cache_encode_top_1000(benchmark: BenchmarkFixture) -> None:
    rows = top_rows(1000)
    keys = Keys()
    connection = Connection()  # packing needs no socket

    def encode() -> list[bytes]:
        zadd: list[Any] = ["ZADD", keys.cache_tmp("bench")]
        for score, member in rows:
            zadd += [score, member]
        meta = ["HSET", keys.cache_meta, "refreshed_at_s", "0.0", "scatter_gather_s", "0.0", "entries", 1000]
        commands = [
            ("MULTI",),
            tuple(zadd),
            ("RENAME", keys.cache_tmp("bench"), keys.cache),
            tuple(meta),
            ("EXEC",),
        ]
        packed: list[bytes] = connection.pack_commands(commands)
        return packed

    packed = benchmark(encode)
    assert sum(map(len, packed)) > 20_000


@pytest.mark.parametrize("top_n", [100, 1000])
def test_cache_decode(benchmark: BenchmarkFixture, top_n: int) -> None:
    reply = resp2_reply(top_rows(top_n))

    def decode() -> list[tuple[bytes, float]]:
        reader = hiredis.Reader()
        reader.feed(reply)
        return Ranking(reader.gets()).rows()

    rows = benchmark(decode)
    assert len(rows) == top_n
    assert rows[0][1] >= rows[-1][1]


def test_refresh_merge_ten_shards_top_1000(benchmark: BenchmarkFixture) -> None:
    """The refresher's whole client-side job: parse ten top-1000 replies and merge them."""
    replies = [resp2_reply(top_rows(1000, seed=shard)) for shard in range(10)]

    def parse_and_merge() -> list[tuple[float, bytes]]:
        reader = hiredis.Reader()
        for reply in replies:
            reader.feed(reply)
        return merge_top([reader.gets() for _ in replies], 1000)

    merged = benchmark(parse_and_merge)
    assert len(merged) == 1000


def test_render_report(benchmark: BenchmarkFixture) -> None:
    summary = make_summary()
    report = benchmark(render_report, summary, META, {"Latency distribution": "latency_cdf.png"})
    assert "## Seed claims vs measured" in report


def test_build_summary_from_raw_data(benchmark: BenchmarkFixture, tmp_path: Path) -> None:
    """summary.json from a 10-s, two-strategy synthetic run (pandas frames + HDR merges)."""
    naive = [steady_worker(f"w{i}", 10, 200, latency_us=1200) for i in range(2)]
    cached = [steady_worker(f"w{i}", 10, 200, latency_us=300) for i in range(2)]
    run_dir = write_run(
        tmp_path / "run",
        {
            "naive": (naive, Redis(40_000, 88_000_000, 3_000_000), {}),
            "cached": (cached, Redis(4_000, 9_000_000, 350_000, nodes=("cache",)), {}),
        },
    )
    summary = benchmark.pedantic(build_summary, args=(run_dir,), rounds=5, iterations=1)
    assert summary["strategies"]["naive"]["requests"] == 4000


def test_gate_ci_checks(benchmark: BenchmarkFixture) -> None:
    """Parse and evaluate the CI gate's checks against a three-run baseline, then render the table."""
    texts = tomllib.loads(PERF_GATE.read_text())["gates"]["check"]
    runs = [Measured("run", make_summary())]
    reference = [Measured(f"base-{i}", make_summary()) for i in range(3)]

    def gate() -> str:
        result = evaluate(parse_checks(texts), runs, reference)
        return gate_table(gate_document(result, runs, None, "now", []))

    table = benchmark(gate)
    assert table.count("\n") == len(texts) + 1
