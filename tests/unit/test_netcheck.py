"""The network projection in summary.json and netcheck's verdict (one check or several pooled), synthetic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from analysis.figures.summary import build_summary
from analysis.netcheck.check import DIRECT, NETCHECK_MD, check, relay_run
from analysis.netcheck.pool import pool, render_pool
from runfiles import RunFiles, write_json
from tests.unit.synthetic_run import Interval, Redis, Worker, write_run

SHARDS = 10


def _worker(latency_us: int, parts: dict[str, list[object]]) -> Worker:
    per_s = 50
    intervals = [
        Interval(
            float(k),
            {"corrected": [latency_us] * per_s, "raw": [latency_us] * per_s, "lag": [5] * per_s},
            users=parts,
        )
        for k in range(3)
    ]
    return Worker("local", intervals)


def _run(root: Path, naive_us: int, cached_us: int, *, sampled: bool = True) -> Path:
    # A fan-out whose slowest socket replies after 270 µs and merges in 30: 300 µs end to end.
    naive_parts: dict[str, list[object]] = {
        "shard_send_us": [[0.0] * SHARDS] * 5,
        "shard_reply_us": [[naive_us - 30.0] * SHARDS] * 5,
        "merge_us": [30.0] * 5,
        "service_us": [],
    }
    cached_parts: dict[str, list[object]] = {
        "shard_send_us": [],
        "shard_reply_us": [],
        "merge_us": [],
        "service_us": [float(cached_us)] * 5,
    }
    redis = Redis(commands=1000, bytes_out=10_000, bytes_in=1000)
    run = write_run(
        root,
        {
            "naive": ([_worker(naive_us, naive_parts if sampled else {})], redis, {}),
            "cached": ([_worker(cached_us, cached_parts if sampled else {})], redis, {}),
        },
    )
    write_json(RunFiles(run).summary, build_summary(run).to_json())
    return run


def test_a_run_with_sampled_parts_gets_a_projection_per_profile(tmp_path: Path) -> None:
    summary = build_summary(_run(tmp_path / "run", 300, 100)).to_json()
    network = summary["network"]
    assert network["shards"] == SHARDS
    assert network["samples"] == {"naive": 15, "cached": 15}
    loopback = network["profiles"]["loopback"]
    assert loopback["naive_us"] == {"p50": 300.0, "p99": 300.0}
    assert loopback["cached_us"] == {"p50": 100.0, "p99": 100.0}
    cross = network["profiles"]["cross-zone"]
    assert cross["naive_us"]["p50"] > 300.0 + 1000.0  # the max of ten round trips beats their median
    assert [row["shards"] for row in cross["naive_by_shards"]] == list(range(1, 51))


def test_a_run_from_before_the_sampling_has_no_projection(tmp_path: Path) -> None:
    assert "network" not in build_summary(_run(tmp_path / "old", 300, 100, sampled=False)).to_json()


def test_netcheck_compares_each_run_with_its_projection(tmp_path: Path) -> None:
    out = tmp_path / "check"
    _run(out / DIRECT, 300, 100)
    _run(out / relay_run("loopback"), 400, 150)
    _run(out / relay_run("same-zone"), 700, 400)
    result = check(out)
    rows = {(r["run"], r["profile"], r["strategy"], r["quantile"]): r for r in result["rows"]}
    direct = rows[(DIRECT, "loopback", "naive", "p50")]
    assert direct["measured_us"] == 300
    assert direct["projected_us"] == 300
    assert direct["within"] is True
    same = rows[(relay_run("same-zone"), "same-zone", "cached", "p50")]
    assert same["parts_from"] == f"{DIRECT} + relay hop"
    # Direct's 100 µs service, the relay's hop (150 - 100 µs), a same-zone round trip (>= 80 µs).
    assert same["projected_us"] >= 100.0 + 50.0 + 80.0
    assert result["relay_hop_us"] == 50.0
    overhead = {(r["strategy"], r["quantile"]): r["overhead_us"] for r in result["relay_overhead"]}
    assert overhead[("naive", "p50")] == 100.0
    assert overhead[("cached", "p99")] == 50.0
    assert "relay's own overhead" in (out / NETCHECK_MD).read_text()


def _result(measured_p99_us: float, projected_p99_us: float, hop_us: float) -> dict[str, Any]:
    """A netcheck.json result of one check: a direct naive p99 row and a same-zone one."""
    rows = [
        {"run": DIRECT, "profile": "loopback", "strategy": "naive", "quantile": "p99",
         "measured_us": 1000.0, "projected_us": 1050.0, "error": 0.05, "tolerance": 0.10, "within": True},
        {"run": relay_run("same-zone"), "profile": "same-zone", "strategy": "naive", "quantile": "p99",
         "measured_us": measured_p99_us, "projected_us": projected_p99_us,
         "error": (projected_p99_us - measured_p99_us) / measured_p99_us, "tolerance": 0.15, "within": False},
    ]  # fmt: skip
    overhead = [{"strategy": "naive", "quantile": "p50", "overhead_us": hop_us * 2}]
    return {"rows": rows, "relay_hop_us": hop_us, "relay_overhead": overhead, "all_within": False}


def test_pooled_checks_judge_the_mean_projection_against_the_mean_measurement() -> None:
    # One check 40% over, one 30% under: each alone fails the 15%, together they agree within it.
    pooled = pool([_result(1000.0, 1400.0, 200.0), _result(2000.0, 1400.0, 300.0)])
    rows = {(r["run"], r["quantile"]): r for r in pooled["rows"]}
    same = rows[(relay_run("same-zone"), "p99")]
    assert same["errors"] == [pytest.approx(0.4), pytest.approx(-0.3)]
    assert same["measured_us"] == 1500.0
    assert same["projected_us"] == 1400.0
    assert same["error"] == pytest.approx(-1 / 15)
    assert same["within"] is True
    assert pooled["all_within"] is True
    assert pooled["median_relay_overhead_us"] == {"naive p50": 500.0}
    text = render_pool(pooled)
    assert "2 checks pooled" in text
    assert "+40% / -30%" in text


def test_a_row_missing_from_one_check_is_left_out_of_the_pool() -> None:
    partial = _result(1000.0, 1100.0, 200.0)
    partial["rows"] = partial["rows"][:1]
    pooled = pool([_result(1000.0, 1100.0, 200.0), partial])
    assert [(r["run"], r["profile"]) for r in pooled["rows"]] == [(DIRECT, "loopback")]
