"""The load generator on real servers: open-loop rate, saturation guard, cross-check, workers."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from runfiles import (
    CLIENT_FIELDS,
    HDR_KINDS,
    INTERVAL_FIELDS,
    NODE_COLUMNS,
    RANK_FIELDS,
    REFRESH_COLUMNS,
    SCHEMA_VERSION,
    WORKER_FIELDS,
    RunFiles,
    Window,
    read_json,
)

RATE = 400.0
RUN_DIRS: dict[int, Path] = {}


def compare(out: Path, *args: str) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "lbbench",
        "compare",
        "--players",
        "20000",
        "--shards",
        "4",
        "--out",
        str(out),
        *args,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


# A paced run is tried again once when only the generator's own lag made it invalid. At 400 req/s the
# generator idles at ~10% CPU, yet on a noisy CI VM one run in a few had free users sending 2-16 ms
# late for a whole phase (generator lag p99 2.3 ms against the 2 ms limit): the harness flagging the
# machine, as it should, not the pacing failing. A pacing fault fails both tries.
PACED_TRIES = 2


def only_the_generator_lagged(summary: dict[str, Any]) -> bool:
    """Invalid for the generator's lag alone: the rate was met and no other reason was given."""
    reasons = [str(s["invalid_reason"]) for s in summary["strategies"].values() if not s["valid"]]
    return bool(reasons) and all(r.startswith("generator lag p99 ") and ";" not in r for r in reasons)


@pytest.fixture(scope="module")
def paced_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, Any]]:
    """The same open-loop comparison with one Locust process and with a master + 2 workers."""
    runs = {}
    for workers in (1, 2):
        for attempt in range(PACED_TRIES):
            out = RUN_DIRS[workers] = tmp_path_factory.mktemp(f"workers{workers}-try{attempt}") / "run"
            runs[workers] = compare(
                out, "--rps", str(RATE), "--duration", "6", "--users", "10", "--workers", str(workers),
                "--read-write-ratio", "100", "--refresh-interval", "2",
            )  # fmt: skip
            if not only_the_generator_lagged(runs[workers]):
                break
    return runs


@pytest.mark.parametrize("workers", [1, 2])
def test_a_modest_rate_is_met_and_valid(paced_runs: dict[int, dict[str, Any]], workers: int) -> None:
    summary = paced_runs[workers]
    assert summary["valid"] is True
    for name, s in summary["strategies"].items():
        assert s["mode"] == "open"
        assert s["target_rps"] == RATE
        assert s["workers"] == workers
        assert abs(s["rps"] - RATE) <= 0.05 * RATE, (name, s["rps"])
        assert s["valid"] is True, (name, s["invalid_reason"])
        assert s["invalid_reason"] is None
        # Open loop: the corrected latency can only be longer than the raw one.
        assert s["latency_us"]["p50"] >= s["latency_us_raw"]["p50"]


@pytest.mark.parametrize("workers", [1, 2])
def test_client_and_redis_counts_agree_within_one_percent(
    paced_runs: dict[int, dict[str, Any]], workers: int
) -> None:
    for name, s in paced_runs[workers]["strategies"].items():
        check = s["cross_check"]
        assert check["agree"] is True, (name, check)
        for field in ("commands", "bytes_out", "bytes_in"):
            assert abs(check[field] - 1) <= 0.01, (name, field, check[field])
        assert s["client_bytes_out_per_request"] > 0


def test_writes_run_at_the_ratio_and_are_not_counted_as_reads(paced_runs: dict[int, dict[str, Any]]) -> None:
    naive = paced_runs[1]["strategies"]["naive"]
    cached = paced_runs[1]["strategies"]["cached"]
    for s in (naive, cached):
        assert s["writes"]["failures"] == 0
        assert abs(s["writes"]["requests"] - s["requests"] / 100) <= 2
    # Writes hit the shards; subtracted, the per-read counts are exactly the strategies' own.
    assert 4 <= naive["redis_commands_per_request"] <= 4 * 1.01
    assert 1 <= cached["redis_commands_per_request"] <= 1.01


@pytest.mark.parametrize("workers", [1, 2])
def test_raw_files_follow_the_run_file_contract(paced_runs: dict[int, dict[str, Any]], workers: int) -> None:
    files = RunFiles(RUN_DIRS[workers])
    assert files.strategies() == list(paced_runs[workers]["strategies"])
    assert read_json(files.meta)["schema_version"] == SCHEMA_VERSION
    for name in files.strategies():
        phase = files.phase(name)
        entries = phase.read_workers()
        assert len(entries) == workers
        for entry in entries:
            assert tuple(entry) == WORKER_FIELDS
            assert tuple(entry["client"]) == CLIENT_FIELDS
        rows = [json.loads(line) for line in phase.intervals.read_text().splitlines()]
        assert rows
        assert all(tuple(row) == INTERVAL_FIELDS and tuple(row["hist"]) == HDR_KINDS for row in rows)
        assert tuple(read_json(phase.window)) == tuple(f.name for f in fields(Window))
        for path, columns in ((phase.nodes, NODE_COLUMNS), (phase.refreshes, REFRESH_COLUMNS)):
            assert tuple(path.read_text().splitlines()[0].split(",")) == columns
        assert tuple(read_json(phase.rank)) == RANK_FIELDS
        # One read in 100 per user timed part by part: each shard socket for naive, the read for cached.
        shards = paced_runs[workers]["scenario"]["shards"]
        replies = [reply for row in rows for reply in row["shard_reply_us"]]
        service = [value for row in rows for value in row["service_us"]]
        if name == "naive":
            assert replies
            assert all(len(reply) == shards and min(reply) > 0 for reply in replies)
        else:
            assert service
            assert not replies
    assert set(paced_runs[workers]["network"]["profiles"]) >= {"loopback", "same-zone", "cross-zone"}


def shape_differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two JSON values differ in structure or leaf type (a float is "number"); a null matches any leaf.

    A figure one run had nothing for is null there: users never exhausted, or a schedule lag under
    the limit (so no cause), which a run on a busier moment of the machine may have.
    """
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return [f"{path or '.'}: keys {list(a)} != {list(b)}"]
        return [d for key in a for d in shape_differences(a[key], b[key], f"{path}.{key}")]
    if a is None or b is None:
        return []
    kinds = ["number" if isinstance(v, float) else type(v).__name__ for v in (a, b)]
    return [] if kinds[0] == kinds[1] else [f"{path}: {kinds[0]} != {kinds[1]}"]


def test_two_workers_give_the_same_summary_shape_as_one(paced_runs: dict[int, dict[str, Any]]) -> None:
    one, two = paced_runs[1], paced_runs[2]
    assert list(one["strategies"]) == list(two["strategies"]) == ["naive", "cached"]
    for name in one["strategies"]:
        assert shape_differences(one["strategies"][name], two["strategies"][name]) == []


def test_an_unreachable_rate_is_marked_not_valid(tmp_path: Path) -> None:
    summary = compare(tmp_path / "run", "--strategies", "naive", "--rps", "50000", "--duration", "5")
    naive = summary["strategies"]["naive"]
    assert summary["valid"] is False
    assert naive["valid"] is False
    assert "below 95% of the 50,000 req/s target" in naive["invalid_reason"]
    report = (tmp_path / "run" / "report.md").read_text()
    assert "Warning" in report
    assert naive["invalid_reason"].split(";")[0] in report
