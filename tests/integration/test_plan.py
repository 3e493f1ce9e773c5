"""`lbbench plan` on spawned servers: the runs it measures, plan.md/json/png, --from, --validate --from."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from analysis.render.plan import PLAN_JSON, PLAN_MD, PLAN_PNG, VALIDATION_JSON, VALIDATION_MD
from bench.run.planruns import Scaled
from lbbench.main import parse_command
from lbbench.plan import _measure
from runfiles import RunFiles
from runfiles.summary import Plan
from runfiles.typed import from_json
from tests.integration.test_cli import lbbench

pytestmark = pytest.mark.timeout(300)

#: Two rates at two shards and naive at one: the shape of a plan's measurement, seconds long.
TINY = [
    Scaled("high", ("naive", "cached"), 2, 5_000, 200.0, 20, 2.0),
    Scaled("low", ("naive", "cached"), 2, 5_000, 100.0, 20, 2.0),
    Scaled("fewer", ("naive",), 1, 5_000, 200.0, 20, 2.0),
]


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The tiny measurement, made the way `lbbench plan` makes its own (committed, then summarised)."""
    _, args = parse_command(["plan"])
    return _measure(TINY, tmp_path_factory.mktemp("plan") / "runs", args)


def test_the_measurement_leaves_one_summarised_run_per_step(measured: list[Path]) -> None:
    assert [path.name for path in measured] == ["high", "low", "fewer"]
    for path in measured:
        assert RunFiles(path).summary.is_file()
    assert not list(measured[0].parent.parent.glob("*.partial"))


def test_plan_from_runs_writes_the_plan_for_the_target(measured: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "plan"
    target = "players=2M,shards=20,rps=20k,slo_p99_ms=50,max_staleness=30s"
    result = lbbench("plan", "--from", *map(str, measured), "--target", target, "--out", str(out))
    assert result.returncode == 0, result.stderr
    plan = from_json(Plan, json.loads((out / PLAN_JSON).read_text()))
    assert (plan.target.players, plan.target.shards, plan.target.rps) == (2_000_000, 20, 20_000.0)
    assert set(plan.strategies) == {"naive", "cached"}
    naive, cached = plan.strategies["naive"], plan.strategies["cached"]
    assert naive.commands_per_request == pytest.approx(20.0)  # measured at 2 shards, one per shard
    assert cached.refresh_interval_s == 30.0  # shortened to the staleness limit
    assert plan.choice in plan.strategies
    assert plan.runs == [str(path) for path in measured]
    text = (out / PLAN_MD).read_text()
    assert "derived from runs measured on this machine" in text
    assert f"**{plan.choice}** is the cheapest" in text
    assert (out / PLAN_PNG).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert text in result.stdout


def test_validate_from_a_directory_of_fit_and_held_out_runs(measured: list[Path], tmp_path: Path) -> None:
    folder = tmp_path / "validation"
    (folder / "fit").mkdir(parents=True)
    (folder / "held-out").mkdir()
    for path in measured[1:]:
        (folder / "fit" / path.name).symlink_to(path)
    for repeat in ("r1", "r2"):  # the same run twice: a spread of zero, and still a point
        (folder / "held-out" / f"high-{repeat}").symlink_to(measured[0])
    result = lbbench("plan", "--validate", "--from", str(folder))
    assert result.returncode in (0, 1), result.stderr  # 1: fewer than three points passed
    validation = json.loads((folder / VALIDATION_JSON).read_text())
    assert list(validation["points"]) == ["high"]
    rows = {(r["strategy"], r["quantity"]): r for r in validation["rows"]}
    assert rows[("naive", "commands_per_request")]["passed"] is True
    assert rows[("cached", "bytes_out_per_request")]["passed"] is True  # the data's reply sizes
    assert "| point | strategy | quantity |" in (folder / VALIDATION_MD).read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "player=5"], "did you mean 'players'"),
        (["--target", "shards=0"], "shards must be positive"),
        (["--from", "/nonexistent-run"], "no such directory"),
        (["--validate", "--from", sys.prefix], "not a validation directory"),
    ],
)
def test_bad_plan_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = lbbench("plan", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
