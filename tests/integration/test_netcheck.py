"""`lbbench netcheck` end to end: direct, zero-delay relays and one profile's relays, then the verdict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import check_report

pytestmark = pytest.mark.slow


def test_netcheck_runs_every_phase_and_compares_each_with_its_projection(tmp_path: Path) -> None:
    out = tmp_path / "check"
    args = ["netcheck", "--shards", "3", "--players", "3000", "--duration", "2", "--rps", "100"]
    args += ["--profiles", "same-zone", "--out", str(out)]
    # --capacity-s asks every compare for a probe; netcheck's runs must not make one (through the
    # relays it would measure the relays).
    process = subprocess.run(
        [sys.executable, "-m", "lbbench", *args, "--capacity-s", "1"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert process.returncode == 0, process.stderr[-2000:]
    runs = sorted(path.name for path in out.iterdir() if path.is_dir())
    assert runs == ["direct", "relay-loopback", "relay-same-zone"]
    for run in runs:
        summary = json.loads((out / run / "summary.json").read_text())
        assert set(summary["strategies"]) == {"naive", "cached"}
        assert json.loads((out / run / "capacity.json").read_text())["available"] is False, run
    result = json.loads((out / "netcheck.json").read_text())
    checked = {(row["run"], row["strategy"], row["quantile"]) for row in result["rows"]}
    for run in runs:
        for strategy in ("naive", "cached"):
            assert {(run, strategy, "p50"), (run, strategy, "p99")} <= checked
    # The zero-delay relays cost something: the hop the projections add is measured, not assumed.
    assert result["relay_hop_us"] > 0
    assert (out / "netcheck.md").is_file()
    page = check_report(out / "report.html", "netcheck", min_images=0)
    assert "direct" in page.text
    check_report(out / "direct" / "report.html", "netcheck-direct", min_images=4)

    # Rechecking it twice over pools the two: the same runs, so each check's error appears twice.
    recheck = subprocess.run(
        [sys.executable, "-m", "lbbench", "netcheck", "--recheck", str(out), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert recheck.returncode == 0, recheck.stderr[-2000:]
    assert "2 checks pooled" in recheck.stdout
    error = next(r for r in result["rows"] if r["run"] == "direct")["error"]
    assert f"{error * 100:+.0f}% / {error * 100:+.0f}%" in recheck.stdout
