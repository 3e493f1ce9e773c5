"""`lbbench ab`'s rounds, with the compares replaced by run directories written here (no servers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lbbench import ab
from lbbench.main import main
from tests.unit.sample_summary import make_summary

# main() installs the CLI's signal handlers; tests/unit/conftest.py gives the test process its own back.
pytestmark = pytest.mark.usefixtures("keep_signal_handlers")


def fake_compares(monkeypatch: pytest.MonkeyPatch, invalid: set[str]) -> list[str]:
    """Every compare writes a valid run, but those named in ``invalid`` (directory names); returns the
    names in the order they ran."""
    ran: list[str] = []

    def compare(command: list[str], run_dir: Path) -> None:
        del command
        ran.append(run_dir.name)
        summary = make_summary()
        summary["run_id"] = run_dir.name
        summary["strategies"]["cached"]["valid"] = run_dir.name not in invalid
        run_dir.mkdir(parents=True)
        (run_dir / "summary.json").write_text(json.dumps(summary))

    monkeypatch.setattr(ab, "_compare", compare)
    return ran


def test_a_round_with_an_invalid_run_runs_again_beside_the_first_try(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ran = fake_compares(monkeypatch, invalid={"round-02-b"})
    code = main(["ab", "--rounds", "3", "--b", "--rps 301", "--order-seed", "1", "--out", str(tmp_path)])
    assert code == 0  # the rerun was valid and identical: nothing regressed
    rounds = ["round-01", "round-02", "round-02-rerun1", "round-03"]
    assert sorted(ran) == sorted(f"{name}-{side}" for name in rounds for side in "ab")
    document = json.loads((tmp_path / "ab.json").read_text())
    assert document["ab"]["reruns"] == [{"round": 2, "invalid": ["round-02-b"]}]
    assert [r["b"] for r in document["ab"]["rounds"]] == ["round-01-b", "round-02-rerun1-b", "round-03-b"]
    assert "round 2 (round-02-b)" in (tmp_path / "ab.md").read_text()


def test_a_round_still_invalid_after_its_reruns_fails_the_ab(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ran = fake_compares(monkeypatch, invalid={"round-01-b", "round-01-rerun1-b", "round-01-rerun2-b"})
    code = main(["ab", "--rounds", "3", "--invalid-reruns", "2", "--out", str(tmp_path)])
    assert code == 1
    assert [name for name in ran if name.startswith("round-01")][-2:] in (
        ["round-01-rerun2-a", "round-01-rerun2-b"],
        ["round-01-rerun2-b", "round-01-rerun2-a"],
    )
    failed = [c for c in json.loads((tmp_path / "ab.json").read_text())["checks"] if c["verdict"] == "FAIL"]
    assert failed
    assert all("not valid: B round-01-rerun2-b" in c["note"] for c in failed)


def test_no_reruns_keeps_the_invalid_round(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ran = fake_compares(monkeypatch, invalid={"round-03-a"})
    assert main(["ab", "--rounds", "3", "--invalid-reruns", "0", "--out", str(tmp_path)]) == 1
    assert len(ran) == 6
