"""The run-file contract (runfiles/): what writers may put in a run directory, and readers get."""

from __future__ import annotations

import csv
from dataclasses import asdict
from pathlib import Path

import pytest

from analysis.figures.summary import build_summary
from bench.cache.refresher import RefreshRecord
from runfiles import REFRESH_COLUMNS, RunFiles, Window, read_json, write_csv, write_json
from tests.unit.synthetic_run import Redis, steady_worker, write_run


def test_a_row_outside_the_columns_is_refused_not_dropped(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="surprise"):
        write_csv(tmp_path / "x.csv", ("t_s", "node"), [{"t_s": 1.0, "node": "cache", "surprise": 1}])


def test_refresh_records_are_exactly_the_refresh_columns(tmp_path: Path) -> None:
    record = RefreshRecord(1.0, 0.002, 1000, 15, 100, 20_000, ok=True)
    path = tmp_path / "refreshes.csv"
    write_csv(path, REFRESH_COLUMNS, [asdict(record)])
    with path.open() as rows:
        assert next(csv.reader(rows)) == list(REFRESH_COLUMNS)


def test_window_round_trips_and_ignores_keys_it_does_not_know() -> None:
    window = Window(
        "naive", users=4, duration_s=10.0, t_start_s=1.0, t_stop_s=11.0, key_memory_bytes={"a": 1}
    )
    assert Window.from_json(window.to_json() | {"from_a_newer_writer": True}) == window


def test_the_scenario_takes_the_cache_size_from_the_run_not_a_constant(tmp_path: Path) -> None:
    run_dir = write_run(
        tmp_path / "run", {"cached": ([steady_worker("w0", 3, 10)], Redis(30, 3000, 300), {})}
    )
    files = RunFiles(run_dir)
    write_json(files.meta, read_json(files.meta) | {"cache_top_n": 500})
    assert build_summary(run_dir).to_json()["scenario"]["cache_top_n"] == 500
