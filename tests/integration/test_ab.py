"""`lbbench ab` on spawned servers, and `lbbench history append` on the runs it made."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml

from bench.errors import UsageError
from lbbench.worktree import resolve

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LBBENCH = [sys.executable, "-m", "lbbench"]
SCENARIO = (
    'players = 2_000\nshards = 2\nduration = "1s"\nrps = 100\nstrategies = ["cached"]\ncapacity-s = "0s"\n'
)


def lbbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LBBENCH, *args], capture_output=True, text=True, timeout=300, check=False)


def test_ab_interleaves_the_variants_and_fails_on_an_invalid_b(tmp_path: Path) -> None:
    scenario = tmp_path / "ab.toml"
    scenario.write_text(SCENARIO)
    out, junit = tmp_path / "ab", tmp_path / "ab.xml"
    # B asks 2 users for 50,000 req/s: not valid, so every check of B fails, whatever its latency;
    # its compares exit 1 (--fail-if-invalid) and the A/B still reads the runs they wrote.
    # No reruns: tests/unit/test_ab_rounds.py covers them; here they would double the compares.
    result = lbbench(
        "ab", "--scenario", str(scenario), "--b", "--rps 50000 --users 2 --fail-if-invalid", "--rounds", "3",
        "--order-seed", "1", "--out", str(out), "--junit-xml", str(junit), "--invalid-reruns", "0",
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("lbbench ab: round ") == 3
    ab = json.loads((out / "ab.json").read_text())
    assert ab["ab"]["b"]["flags"] == ["--rps", "50000", "--users", "2", "--fail-if-invalid"]
    assert "--fail-if-invalid: not valid: cached" in (out / "round-01-b.log").read_text()
    assert [r["first"] for r in ab["ab"]["rounds"]] == [r["first"] for r in _orders(seed=1)]
    for number in (1, 2, 3):
        options = {
            side: json.loads((out / f"round-{number:02d}-{side}" / "meta.json").read_text())["options"]
            for side in ("a", "b")
        }
        assert (options["a"]["rps"], options["b"]["rps"]) == (100.0, 50_000.0)
    failed = {row["check"] for row in ab["checks"] if row["verdict"] == "FAIL"}
    assert "ab: cached.latency_us_p50 of B vs A" in failed
    # Every B run is named as not valid; an A run at 100 req/s may be too, on a busy machine.
    note = next(row["note"] for row in ab["checks"] if row["verdict"] == "FAIL")
    assert len(re.findall(r"\bB \S+-cached\b", note.partition("not valid: ")[2])) == 3, note
    suite = next(iter(JUnitXml.fromfile(str(junit))))
    assert any(isinstance(r, Failure) for case in suite for r in case.result)
    # The rounds' runs go into a history like any run: one row per run and strategy.
    history = tmp_path / "history.csv"
    runs = sorted(str(p) for p in out.glob("round-*") if p.is_dir())
    appended = lbbench("history", "append", *runs, "--to", str(history), "--branch", "test")
    assert appended.returncode == 0, appended.stderr
    assert "6 row(s) added" in appended.stderr
    gated = lbbench("gate", "--history", str(history), "--no-write")
    assert gated.returncode == 0, gated.stderr  # two scenarios of three runs: too few to split
    assert "No change points." in gated.stdout


def _orders(seed: int) -> list[dict[str, str]]:
    """The order lbbench ab draws for --order-seed ``seed`` and 3 rounds."""
    import random

    rng = random.Random(seed)
    return [{"first": rng.sample(["a", "b"], 2)[0]} for _ in range(3)]


def test_a_ref_that_names_no_commit_is_refused_in_one_line() -> None:
    with pytest.raises(UsageError, match="names no commit"):
        resolve("no-such-ref-anywhere")
