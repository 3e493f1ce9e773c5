"""build_report end to end on a synthetic run directory: summary.json, the PNGs and report.md."""

from __future__ import annotations

import json
from pathlib import Path

from analysis.build import build_report
from runfiles import SCHEMA_VERSION
from tests.unit.synthetic_run import Redis, steady_worker, write_run

OPEN = {"mode": "open", "target_rps": 200.0, "lag_p99_limit_us": 10_000, "cpu_limit_percent": 90}


def test_build_report_writes_everything(tmp_path: Path) -> None:
    naive = [steady_worker("w0", 10, 100, latency_us=3000), steady_worker("w1", 10, 100, latency_us=3000)]
    cached = [steady_worker("w0", 10, 50, latency_us=300), steady_worker("w1", 10, 50, latency_us=300)]
    run_dir = write_run(
        tmp_path / "20261127T163052Z-naive-cached",
        {
            "naive": (naive, Redis(20_000, 50_000_000, 1_500_000), OPEN),
            "cached": (cached, Redis(1_000, 2_500_000, 75_000, nodes=("cache",)), OPEN),
        },
    )
    files = build_report(run_dir)
    assert [p.name for p in files.plots] == [
        "latency_cdf.png",
        "rate.png",
        "ops_per_node.png",
        "latency_timeline.png",
    ]
    for png in files.plots:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # report.html beside report.md: every plot inside it, the invalid strategy in a red box.
    page = (run_dir / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == len(files.plots)
    assert "Not valid — cached: sent 100 req/s, below 95% of the 200 req/s target." in page
    summary = json.loads(files.summary.read_text())
    assert summary["schema_version"] == SCHEMA_VERSION == 4
    assert summary["strategies"]["naive"]["valid"] is True
    assert summary["strategies"]["cached"]["invalid_reason"] == (
        "sent 100 req/s, below 95% of the 200 req/s target"
    )
    assert summary["valid"] is False
    report = files.report.read_text()
    assert "> **Warning: results not valid for cached**: sent 100 req/s" in report
    assert "Warning: results not valid for naive" not in report
    assert "![Achieved request rate](rate.png)" in report
