"""Fault injection on spawned servers: each kind happens on schedule, is undone, and leaves nothing."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from runfiles import FAULT_COLUMNS, RunFiles, read_json
from tests.browser import check_report
from tests.helpers import reaped

LBBENCH = [sys.executable, "-m", "lbbench"]
SHORT = ["--players", "20000", "--shards", "3", "--users", "5", "--rps", "200"]


def compare(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [*LBBENCH, "compare", *SHORT, "--out", str(out), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


def fault_rows(out: Path, strategy: str) -> list[dict[str, str]]:
    path = RunFiles(out).phase(strategy).faults
    with path.open() as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == FAULT_COLUMNS
        return list(reader)


def actions(rows: list[dict[str, str]]) -> list[tuple[str, str, float]]:
    return [(r["target"], r["action"], float(r["offset_s"])) for r in rows]


def test_a_stalled_shard_times_out_naive_requests_then_continues(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = compare(out, "--duration", "6", "--strategies", "naive", "--fault", "stall:shard=1,at=2s,for=2s")
    assert done.returncode == 0, done.stderr
    (pause, resume) = actions(fault_rows(out, "naive"))
    assert pause[:2] == ("shard-1", "pause")
    assert resume[:2] == ("shard-1", "resume")
    assert pause[2] == pytest.approx(2.0, abs=0.5)
    assert resume[2] == pytest.approx(4.0, abs=0.5)
    (worker,) = RunFiles(out).phase("naive").read_workers()
    assert worker["failures"] > 0
    assert all("TimeoutError" in e for e in worker["errors"] if "write" not in e)
    assert read_json(RunFiles(out).meta)["options"]["faults"][0]["target"] == "shard-1"


def test_kill_restart_slow_cache_down_and_a_dead_refresher(tmp_path: Path) -> None:
    out = tmp_path / "run"
    faults = [
        "kill:shard=1,at=1s,restart=1s",
        "slow:shard=2,at=1s,for=2s,duty=50%",
        "cache-down:at=2s,for=2s",
        "refresher-dead:at=5s",
    ]
    done = compare(
        out, "--duration", "7", "--strategies", "cached", "--refresh-interval", "1",
        *[arg for f in faults for arg in ("--fault", f)],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = [(target, action) for target, action, _ in actions(fault_rows(out, "cached"))]
    assert got == [
        ("shard-1", "kill"),
        ("shard-2", "throttle"),
        ("cache", "kill"),
        ("shard-1", "restart"),
        ("shard-1", "restore"),
        ("shard-2", "unthrottle"),
        ("cache", "restart"),
        ("refresher", "stop"),
    ]
    (worker,) = RunFiles(out).phase("cached").read_workers()
    assert any("Connection refused" in error for error in worker["errors"]), "reads of the dead cache failed"
    refreshes = list(csv.DictReader(RunFiles(out).phase("cached").refreshes.open()))
    assert any(r["ok"] == "False" for r in refreshes), "refreshes failed while the cache was down"
    dead_at = float(next(r["t_s"] for r in fault_rows(out, "cached") if r["action"] == "stop"))
    assert all(float(r["t_start_s"]) < dead_at for r in refreshes), "no refresh after the refresher died"
    rank = read_json(RunFiles(out).phase("cached").rank)
    assert rank["exact_rank"][0] is not None, "the killed shard's data came back"
    page = check_report(out / "report.html", "fault-run", min_images=4)
    assert "Under faults" in page.text


def test_a_kill_without_restart_is_healed_at_the_end_for_the_next_phase(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = compare(out, "--duration", "4", "--strategies", "naive,cached", "--fault", "kill:shard=0,at=1s")
    assert done.returncode == 0, done.stderr
    for strategy in ("naive", "cached"):
        rows = fault_rows(out, strategy)
        assert [r["action"] for r in rows] == ["kill", "restart", "restore"]
        assert "(end of phase)" in rows[1]["detail"]


def test_ctrl_c_during_a_stall_leaves_no_process(tmp_path: Path) -> None:
    cmd = [
        *LBBENCH,
        "compare",
        *SHORT,
        "--duration",
        "60",
        "--strategies",
        "naive",
        "--out",
        str(tmp_path / "r"),
    ]
    proc = subprocess.Popen(
        [*cmd, "--fault", "stall:shard=0,at=1s,for=50s"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    with reaped(proc):
        assert proc.stderr is not None
        for line in proc.stderr:
            if "1 Locust process, 60 s" in line:
                break
        phase_dir = tmp_path / "r.partial" / "raw" / "naive"
        for _ in range(200):  # the stall starts 1 s after the first request
            if (phase_dir / "load-start").exists():
                break
            subprocess.run(["sleep", "0.05"], check=True)
        subprocess.run(["sleep", "1.5"], check=True)
        os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=30) == 130
    # the autouse fixture checks that no server or Locust process is left
    assert not (tmp_path / "r").exists()


def test_bad_fault_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = compare(tmp_path / "run", "--duration", "5", "--fault", "stall:shard=3,at=1s,for=1s")
    assert done.returncode == 2
    expected = "--fault stall:shard=3,at=1s,for=1s: shard=3 does not exist: --shards 3 numbers them 0..2"
    assert done.stderr.strip() == f"lbbench: error: {expected}"
    assert json.dumps(list(tmp_path.iterdir())) == "[]"
