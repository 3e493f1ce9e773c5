"""Faults on `--provider docker`: pause, kill and start, a CPU quota and a cache outage on real containers.

Each action lands in faults.csv as on spawned servers, is undone by the phase's end, and no container
of the run is left, whether the run ends or is interrupted during a pause.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from docker import DockerClient
from docker.errors import NotFound

from tests.helpers import reaped
from tests.integration.test_cli import LBBENCH
from tests.integration.test_docker_provider import run_containers
from tests.integration.test_faults import actions, fault_rows

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SHORT = ["--provider", "docker", "--players", "20000", "--shards", "3", "--users", "5", "--rps", "200"]


def test_every_server_fault_on_containers_happens_is_undone_and_leaves_nothing(
    docker_engine: DockerClient, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    faults = [
        "stall:shard=0,at=1s,for=1s",
        "kill:shard=1,at=1s,restart=1s",
        "slow:shard=2,at=1s,for=2s,duty=50%",
        "cache-down:at=2s,for=2s",
    ]
    done = subprocess.run(
        [*LBBENCH, "compare", *SHORT, "--duration", "6", "--strategies", "cached", "--refresh-interval", "1",
         "--out", str(out), *[arg for f in faults for arg in ("--fault", f)]],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = fault_rows(out, "cached")
    got = sorted((target, action) for target, action, _ in actions(rows))
    assert got == sorted(
        [
            ("shard-0", "pause"),
            ("shard-0", "resume"),
            ("shard-1", "kill"),
            ("shard-1", "restart"),
            ("shard-1", "restore"),
            ("shard-2", "throttle"),
            ("shard-2", "unthrottle"),
            ("cache", "kill"),
            ("cache", "restart"),
        ]
    )
    details = {(r["target"], r["action"]): r["detail"] for r in rows}
    assert details["shard-0", "pause"] == "docker pause"
    assert details["shard-2", "throttle"].startswith("CPU quota 50000 µs per 100000 µs")
    (worker,) = json.loads((out / "raw" / "cached" / "workers.json").read_text())
    assert any("Connection" in error for error in worker["errors"]), "reads of the dead cache failed"
    run_id = json.loads((out / "meta.json").read_text())["topology"]["docker_run_id"]
    assert run_containers(docker_engine, run_id) == []
    assert "## Under faults" in (out / "report.md").read_text()


def test_ctrl_c_during_a_pause_unpauses_and_removes_every_container(
    docker_engine: DockerClient, tmp_path: Path
) -> None:
    out = tmp_path / "r"
    proc = subprocess.Popen(
        [*LBBENCH, "compare", *SHORT, "--duration", "60", "--strategies", "naive", "--out", str(out),
         "--fault", "stall:shard=0,at=1s,for=50s"],
        stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    with reaped(proc):
        load_start = out.with_name("r.partial") / "raw" / "naive" / "load-start"
        deadline = time.monotonic() + 120
        while not load_start.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)  # the pause is in effect
        paused = docker_engine.containers.list(filters={"status": "paused", "label": "io.lbbench.role=shard"})
        assert paused, "shard-0's container was paused"
        os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=60) == 130
    for container in paused:
        with pytest.raises(NotFound):
            docker_engine.containers.get(str(container.id))
