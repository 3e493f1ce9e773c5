"""summary.json from synthetic runs: corrected vs raw latency, the guard, writer traffic, cross-check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from analysis.figures.sections import loadgen_cpu_percent, per_node_figures, write_calls
from analysis.figures.summary import build_summary
from runfiles import SCHEMA_VERSION
from tests.unit.synthetic_run import Interval, Redis, Worker, histogram_of, steady_worker, write_run

OPEN_100 = {"mode": "open", "target_rps": 100.0, "lag_p99_limit_us": 10_000, "cpu_limit_percent": 90}
REDIS = Redis(commands=10_000, bytes_out=2_500_000, bytes_in=75_000)


def _summary(
    tmp_path: Path, workers: list[Worker], window: dict[str, Any], redis: Redis = REDIS
) -> dict[str, Any]:
    """build_summary of a one-strategy (naive) synthetic run."""
    return build_summary(write_run(tmp_path / "run", {"naive": (workers, redis, window)})).to_json()


def _stalled_schedule() -> list[Interval]:
    """100 req/s for 10 s; the sender stalls from 5 s to 6 s, then sends its backlog back to back.

    Each request takes 200 µs; one request at a time, so the backlog drains 200 µs apart.
    """
    interval_us, service_us, stall_us = 10_000, 200, (5_000_000, 6_000_000)
    by_second: dict[int, dict[str, list[int]]] = {
        s: {"corrected": [], "raw": [], "lag": []} for s in range(10)
    }
    free_at_us = 0
    for intended_us in range(0, 10_000_000, interval_us):
        send_us = max(intended_us, free_at_us)
        if stall_us[0] <= send_us < stall_us[1]:
            send_us = stall_us[1]
        done_us = send_us + service_us
        free_at_us = done_us
        values = by_second[done_us // 1_000_000]
        values["corrected"].append(done_us - intended_us)
        values["raw"].append(done_us - send_us)
        values["lag"].append(send_us - intended_us)
    return [Interval(float(s), values) for s, values in by_second.items()]


def test_stall_shows_in_corrected_latency_but_not_raw(tmp_path: Path) -> None:
    intervals = _stalled_schedule()
    naive = _summary(tmp_path, [Worker("local", intervals)], OPEN_100)["strategies"]["naive"]
    corrected = [v for i in intervals for v in i.values_us["corrected"]]
    assert len(corrected) == 1000
    assert naive["requests"] == 1000
    assert naive["rps"] == 100.0
    # 50 requests were scheduled in the first half of the stall: the top 5% waited over 500 ms.
    assert naive["latency_us"]["p99"] >= 500_000
    assert naive["latency_us"]["p99"] == histogram_of(corrected).get_value_at_percentile(99)
    assert naive["latency_us"]["max"] >= 1_000_000
    assert naive["latency_us"]["p50"] == 200.0
    assert naive["latency_us_raw"]["p99"] == 200.0
    assert naive["latency_us_raw"]["max"] == 200.0
    assert naive["schedule_lag_us"]["p99"] >= 500_000
    assert naive["mode"] == "open"
    assert naive["target_rps"] == 100.0
    # The rate held, so the lag alone makes the run invalid.
    assert naive["valid"] is False
    assert naive["invalid_reason"].startswith("schedule lag p99 ")
    assert "above the 10,000 µs limit: the generator could not send on time" in naive["invalid_reason"]
    assert ";" not in naive["invalid_reason"]


@pytest.mark.parametrize(
    ("workers", "window", "reason"),
    [
        pytest.param(
            [steady_worker("w0", 10, 30), steady_worker("w1", 10, 30)],
            OPEN_100,
            "sent 60 req/s, below 95% of the 100 req/s target",
            id="low-rate",
        ),
        pytest.param(
            [steady_worker("local", 10, 94)],
            OPEN_100,
            "sent 94 req/s, below 95% of the 100",
            id="just-below",
        ),
        pytest.param(
            [steady_worker("local", 10, 100, cpu_percent=97.0)],
            {**OPEN_100, "mode": "closed", "target_rps": None},
            "load-generator CPU 97.0% above 90%: latencies include queueing inside the generator",
            id="high-cpu",
        ),
        pytest.param(
            [Worker("local", [Interval(float(k), {"corrected": [], "raw": []}) for k in range(5)])],
            {"mode": "closed", "target_rps": None},
            "no successful requests",
            id="no-requests",
        ),
    ],
)
def test_guard_marks_invalid_with_the_reason(
    tmp_path: Path, workers: list[Worker], window: dict[str, Any], reason: str
) -> None:
    summary = _summary(tmp_path, workers, window)
    naive = summary["strategies"]["naive"]
    assert naive["valid"] is False
    assert naive["invalid_reason"].startswith(reason)
    assert summary["valid"] is False


def test_guard_high_lag(tmp_path: Path) -> None:
    worker = steady_worker("local", 10, 100)
    for interval in worker.intervals:
        interval.values_us["lag"] = [50_000] * 100
    naive = _summary(tmp_path, [worker], OPEN_100)["strategies"]["naive"]
    assert naive["valid"] is False
    assert naive["invalid_reason"] == (
        f"schedule lag p99 {naive['schedule_lag_us']['p99']:,.0f} µs above the 10,000 µs limit:"
        " the generator could not send on time"
    )
    assert 50_000 <= naive["schedule_lag_us"]["p99"] <= 50_100


def test_guard_joins_several_reasons(tmp_path: Path) -> None:
    worker = steady_worker("local", 10, 50, cpu_percent=99.0)
    for interval in worker.intervals:
        interval.values_us["lag"] = [80_000] * 50
    reason = _summary(tmp_path, [worker], OPEN_100)["strategies"]["naive"]["invalid_reason"]
    parts = reason.split("; ")
    assert [p.split(" ")[0] for p in parts] == ["sent", "schedule", "load-generator"]


@pytest.mark.parametrize(
    ("workers", "window"),
    [
        pytest.param([steady_worker("local", 10, 100)], OPEN_100, id="open-on-target"),
        pytest.param([steady_worker("local", 10, 96)], OPEN_100, id="open-within-5pct"),
        pytest.param([steady_worker("local", 10, 40)], {"mode": "closed", "target_rps": None}, id="closed"),
    ],
)
def test_guard_valid_otherwise(tmp_path: Path, workers: list[Worker], window: dict[str, Any]) -> None:
    summary = _summary(tmp_path, workers, window)
    naive = summary["strategies"]["naive"]
    assert naive["valid"] is True
    assert naive["invalid_reason"] is None
    assert summary["valid"] is True
    assert summary["schema_version"] == SCHEMA_VERSION == 4


def test_lag_does_not_count_in_closed_loop(tmp_path: Path) -> None:
    worker = steady_worker("local", 10, 100)
    for interval in worker.intervals:
        interval.values_us["lag"] = [80_000] * 100
    naive = _summary(tmp_path, [worker], {"mode": "closed", "target_rps": None})["strategies"]["naive"]
    assert naive["valid"] is True


def test_cpu_skips_partial_first_and_last_seconds(tmp_path: Path) -> None:
    worker = steady_worker("local", 4, 100, cpu_percent=50.0)
    worker.intervals[0].cpu_percent = worker.intervals[-1].cpu_percent = 400.0
    naive = _summary(tmp_path, [worker], OPEN_100 | {"target_rps": 95.0})["strategies"]["naive"]
    assert naive["loadgen_cpu_percent"] == {"mean": 50.0, "max": 50.0}
    assert naive["valid"] is True


def test_cpu_is_the_process_own_measure_over_its_window_when_it_has_one(tmp_path: Path) -> None:
    # Every interval says 50%, but the window the process timed itself was 95% busy: the intervals
    # can straddle the window's ends, the process's own measure cannot.
    worker = steady_worker("local", 4, 100, cpu_percent=50.0)
    worker.window_cpu_s, worker.window_wall_s = 3.8, 4.0
    naive = _summary(tmp_path, [worker], OPEN_100 | {"target_rps": 95.0})["strategies"]["naive"]
    assert naive["loadgen_cpu_percent"] == {"mean": 95.0, "max": 95.0}
    assert naive["valid"] is False
    assert "load-generator CPU 95.0%" in naive["invalid_reason"]


def test_loadgen_cpu_mean_and_max_over_workers() -> None:
    frame = pd.DataFrame(
        {
            "worker": ["w0"] * 4 + ["w1"] * 4 + ["w2"] * 2,
            "t_s": [0.0, 1.0, 2.0, 3.0] * 2 + [0.0, 1.0],
            "cpu_percent": [99, 20, 40, 99, 99, 60, 80, 99, 10, 30],
        }
    )
    # w0: 30, w1: 70 (first/last skipped), w2: 20 (two intervals, both kept).
    assert loadgen_cpu_percent(frame) == {"mean": 40.0, "max": 70.0}


def _writer_run(tmp_path: Path, redis_factor: float = 1.0) -> dict[str, Any]:
    """1000 reads (10 commands each) plus 10 writes; Redis counts both, the client apart."""
    worker = steady_worker("local", 10, 100)
    for k, interval in enumerate(worker.intervals):
        interval.values_us["write"] = [1000 + k]
    worker.intervals[3].write_failures = 1
    reads, writes = 1000, 10
    worker.client = {
        "read_commands": 10 * reads,
        "read_bytes_sent": 75 * reads,
        "read_bytes_received": 2500 * reads,
        "write_commands": writes,
        "write_bytes_sent": 60 * writes,
        "write_bytes_received": 5 * writes,
    }
    redis = Redis(
        commands=round(10 * reads * redis_factor) + writes,
        bytes_out=2500 * reads + 5 * writes,
        bytes_in=75 * reads + 60 * writes,
    )
    window = {"read_write_ratio": 100}
    return _summary(tmp_path, [worker], window, redis)["strategies"]["naive"]


def test_writer_traffic_is_subtracted(tmp_path: Path) -> None:
    naive = _writer_run(tmp_path)
    assert naive["redis_commands_per_request"] == 10.0
    assert naive["bytes_out_per_request"] == 2500.0
    assert naive["bytes_in_per_request"] == 75.0
    assert naive["redis_ops_per_s"] == 1000.0  # reads only: 10,000 commands in 10 s
    assert naive["client_commands_per_request"] == 10.0
    assert naive["client_bytes_out_per_request"] == 2500.0
    assert naive["client_bytes_in_per_request"] == 75.0
    assert naive["cross_check"] == {"commands": 1.0, "bytes_out": 1.0, "bytes_in": 1.0, "agree": True}
    writes = naive["writes"]
    assert writes["requests"] == 10
    assert writes["failures"] == 1
    assert writes["read_write_ratio"] == 100
    assert writes["latency_us"]["max"] == 1009.0
    assert writes["latency_us"]["p50"] == 1004.0


def test_writes_null_when_writer_disabled(tmp_path: Path) -> None:
    naive = _summary(tmp_path, [steady_worker("local", 3, 10)], {"read_write_ratio": None})["strategies"][
        "naive"
    ]
    assert naive["writes"] is None


@pytest.mark.parametrize(
    ("redis_factor", "agree"),
    [(1.009, True), (0.991, True), (1.011, False), (0.989, False)],
)
def test_cross_check_agrees_within_one_percent(tmp_path: Path, redis_factor: float, agree: bool) -> None:
    cross_check = _writer_run(tmp_path, redis_factor)["cross_check"]
    assert cross_check["commands"] == pytest.approx(redis_factor)
    assert cross_check["bytes_out"] == 1.0
    assert cross_check["agree"] is agree


def test_cross_check_without_client_counts_does_not_agree(tmp_path: Path) -> None:
    naive = _summary(tmp_path, [steady_worker("local", 3, 10)], {})["strategies"]["naive"]
    assert naive["cross_check"] == {"commands": None, "bytes_out": None, "bytes_in": None, "agree": False}


def test_writer_zincrbys_do_not_make_a_shard_a_serving_node() -> None:
    nodes = pd.DataFrame(
        {
            "t_s": [0.0, 0.0, 1.0, 1.0],
            "node": ["cache", "shard-0", "cache", "shard-0"],
            "role": ["cache", "shard", "cache", "shard"],
            "workload_commands": [0, 0, 1000, 100],
            "workload_bytes_out": [0] * 4,
            "workload_bytes_in": [0] * 4,
            "cpu_s": [0.0] * 4,
            "used_memory_bytes": [0] * 4,
        }
    )
    stats = pd.DataFrame(
        {
            "t_s": [0.0, 1.0],
            "node": ["shard-0"] * 2,
            "command": ["zincrby"] * 2,
            "calls": [5, 105],
            "usec": [0, 0],
        }
    )
    per_node = per_node_figures(nodes, 1.0, stats)
    assert per_node["shard-0"]["write_commands"] == 100
    assert per_node["cache"]["write_commands"] == 0
    assert write_calls(None) == {}
