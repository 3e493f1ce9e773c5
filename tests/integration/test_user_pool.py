"""The pool of users on real servers: it grows from --users when every user is busy, and at --max-users
the requests no user can take are dropped, counted and make the phase not valid."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from runfiles import RunFiles, read_json

pytestmark = pytest.mark.integration


def test_a_pool_grows_to_its_limit_then_drops_and_every_slot_is_accounted_for(tmp_path: Path) -> None:
    out = tmp_path / "run"
    # One user cannot send naive's 2,000 req/s (a fan-out over 4 shards takes longer than 0.5 ms);
    # two cannot either, so the pool grows once and then drops.
    cmd = [
        sys.executable, "-m", "lbbench", "compare", "--players", "20000", "--shards", "4",
        "--strategies", "naive", "--rps", "2000", "--users", "1", "--max-users", "2", "--duration", "3",
        "--out", str(out),
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    naive = read_json(out / "summary.json")["strategies"]["naive"]
    pool = naive["user_pool"]
    assert (pool["start"], pool["end"], pool["max"]) == (1, 2, 2)
    (episode,) = pool["episodes"]
    assert (episode["users_from"], episode["users_to"]) == (1, 2)
    assert episode["from_s"] < 0.5
    assert pool["dropped"] > 0
    assert naive["valid"] is False
    assert "(--max-users) busy: that load was never sent" in naive["invalid_reason"]
    # Every slot of the window was sent or dropped: none lost, none twice.
    (worker,) = RunFiles(out).phase("naive").read_workers()
    sent = worker["requests"] + worker["failures"]
    assert sent + worker["dropped"] == pytest.approx(worker["intended"], abs=2)
    rows = [json.loads(line) for line in RunFiles(out).phase("naive").intervals.read_text().splitlines()]
    assert sum(row["dropped"] for row in rows) == worker["dropped"] == pool["dropped"]
    assert [growth[1:3] for row in rows for growth in row["grew"]] == [[1, 2]]
    assert "naive: users grew 1 → 2 in the first " in result.stderr
    report = (out / "report.md").read_text()
    assert "## The pool of users" in report
    assert f"At its limit of 2 users it **dropped {pool['dropped']:,} due requests**" in report
