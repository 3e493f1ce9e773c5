"""Work dirs of spawned servers: one killed harness's dir is removed by the next, a live one's never."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from bench.topology.processes import WORKDIR_PREFIX, remove_orphan_workdirs


def test_only_the_dirs_of_harnesses_that_are_gone_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.Popen(["true"])
    gone.wait()  # reaped: its pid names no process any more
    orphan = tmp_path / f"{WORKDIR_PREFIX}{gone.pid}-abc"
    live = tmp_path / f"{WORKDIR_PREFIX}{os.getpid()}-def"
    older = tmp_path / f"{WORKDIR_PREFIX}xyz"  # before dirs carried a pid: not ours to judge
    for path in (orphan, live, older):
        (path / "shard-0.0").mkdir(parents=True)
    remove_orphan_workdirs()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, older.name])
