"""Sweep values, the tidy table, its plot and sweep.md from synthetic points (no servers)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from analysis.build import build_sweep_report
from analysis.figures.sweep import sweep_frame
from analysis.render.sweep import sweep_figure
from bench.errors import UsageError
from bench.run.compare import CompareOptions
from bench.run.sweep import PARAMS, VALUES, parse_values, point_name
from bench.topology import TopologyOptions
from tests.unit.sample_summary import make_summary


def values(text: str) -> tuple[str, ...]:
    return tuple(VALUES.convert(text))


def test_values_parse_per_parameter_type() -> None:
    assert parse_values(PARAMS["shards"], values("1, 2,10")) == [1, 2, 10]
    assert parse_values(PARAMS["refresh-interval"], values("0.5,60")) == [0.5, 60.0]
    assert parse_values(PARAMS["refresh-interval"], values("500ms,1m")) == [0.5, 60.0]
    assert parse_values(PARAMS["rps"], values("1_000,2_000")) == [1000.0, 2000.0]


@pytest.mark.parametrize(
    ("param", "text", "message"),
    [
        ("shards", "1,two", "'two' is not a number"),
        ("shards", "1.5,2", "'1.5' is not a number"),
        ("rps", "0,100", "must be positive"),
        ("refresh-interval", "5", "at least two different values"),
        ("refresh-interval", "5,5", "at least two different values"),
    ],
)
def test_bad_values_are_one_line_usage_errors(param: str, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_values(PARAMS[param], values(text))


def test_each_parameter_lands_in_its_option() -> None:
    base = CompareOptions()
    assert PARAMS["refresh-interval"].apply(base, 5.0).refresh_interval_s == 5.0
    assert PARAMS["shards"].apply(base, 3).topology.shards == 3
    assert PARAMS["rps"].apply(base, 800.0).rps == 800.0
    assert PARAMS["read-write-ratio"].apply(base, 10).read_write_ratio == 10
    external = CompareOptions(topology=TopologyOptions(shard_urls=("redis://a:1",), cache_url="redis://b:1"))
    with pytest.raises(UsageError, match="spawns its own servers"):
        PARAMS["shards"].apply(external, 2)


def _write_sweep(sweep_dir: Path, param: str, values: list[float]) -> None:
    for value in values:
        summary = make_summary()
        summary["scenario"]["shards"] = int(value) if param == "shards" else 10
        naive = summary["strategies"]["naive"]
        naive["bytes_out_per_request"] = 2400.0 * value
        naive["valid"] = value < 3
        summary["strategies"]["cached"]["staleness"]["entries_differ"]["mean"] = value / 2
        summary["strategies"]["cached"]["staleness"]["max_rank_displacement"]["mean"] = value * 3
        summary["strategies"]["cached"]["refresher"]["interval_s"] = value
        point = sweep_dir / "points" / point_name(PARAMS[param], value)
        point.mkdir(parents=True)
        (point / "summary.json").write_text(json.dumps(summary))
    described = {
        "param": param,
        "unit": PARAMS[param].unit,
        "values": values,
        "points": [point_name(PARAMS[param], v) for v in values],
    }
    (sweep_dir / "sweep.json").write_text(json.dumps(described))


def test_tidy_table_has_one_row_per_point_and_strategy(tmp_path: Path) -> None:
    _write_sweep(tmp_path, "shards", [1, 2, 4])
    frame = sweep_frame(tmp_path)
    assert len(frame) == 3 * 2
    naive = frame[frame["strategy"] == "naive"]
    assert naive["value"].tolist() == [1, 2, 4]
    assert naive["shards"].tolist() == [1, 2, 4]
    assert naive["bytes_out_per_request"].tolist() == [2400.0, 4800.0, 9600.0]
    cached = frame[frame["strategy"] == "cached"].iloc[0]
    expected = cached["refresh_commands"] / cached["refresh_interval_s"]
    assert cached["background_commands_per_s"] == pytest.approx(expected)


@pytest.mark.parametrize("param", ["shards", "rps", "refresh-interval", "read-write-ratio"])
def test_report_files_for_every_parameter(tmp_path: Path, param: str) -> None:
    _write_sweep(tmp_path, param, [1, 2, 4])
    csv_path, png, md = build_sweep_report(tmp_path)
    assert csv_path.read_text().count("\n") == 1 + 6
    assert png.read_bytes()[:4] == b"\x89PNG"
    text = md.read_text()
    assert f"# Sweep over {param}" in text
    assert text.count("| naive |") == 3
    stale = sweep_frame(tmp_path).query("strategy == 'cached'")["stale_entries_mean"].tolist()
    assert stale == [0.5, 1.0, 2.0]
    assert sweep_frame(tmp_path).query("strategy == 'cached'")["stale_displacement_mean"].tolist() == [
        3,
        6,
        12,
    ]


def test_an_rps_sweep_gives_the_cpu_of_one_more_request_as_a_slope(tmp_path: Path) -> None:
    # 0.1 s of CPU a second whatever the rate, plus 200 µs a request: all CPU / requests falls with
    # the rate, the slope between two rates is the 200 µs.
    values = [1000.0, 2000.0, 4000.0]
    _write_sweep(tmp_path, "rps", values)
    for value, point in zip(values, json.loads((tmp_path / "sweep.json").read_text())["points"], strict=True):
        path = tmp_path / "points" / point / "summary.json"
        summary = json.loads(path.read_text())
        for strategy, per_request_us in (("naive", 200.0), ("cached", 50.0)):
            summary["strategies"][strategy]["rps"] = value
            summary["strategies"][strategy]["client_cpu_us_per_request"] = 100_000 / value + per_request_us
        path.write_text(json.dumps(summary))
    frame = sweep_frame(tmp_path)
    naive = frame[frame["strategy"] == "naive"]["client_cpu_us_per_request_slope"].tolist()
    assert naive[0] != naive[0]  # NaN: no lower rate to take a slope from
    assert naive[1:] == [pytest.approx(200.0), pytest.approx(200.0)]
    cached = frame[frame["strategy"] == "cached"]["client_cpu_us_per_request_slope"].tolist()
    assert cached[1:] == [pytest.approx(50.0), pytest.approx(50.0)]
    _, _, md = build_sweep_report(tmp_path)
    text = md.read_text()
    assert "client_cpu_us_per_request_slope" in text
    assert "naive 200 µs, cached 50 µs" in text


def test_repeated_points_draw_their_median_with_the_spread_and_name_the_axis_once(tmp_path: Path) -> None:
    param = PARAMS["shards"]
    values, points = [1, 2, 1, 2], [point_name(param, v, r) for r in (1, 2) for v in (1, 2)]
    assert points == ["shards=1", "shards=2", "shards=1-r2", "shards=2-r2"]
    for value, point, p50_us in zip(values, points, [300.0, 400.0, 500.0, 600.0], strict=True):
        summary = make_summary()
        summary["scenario"]["shards"] = value
        summary["strategies"]["naive"]["latency_us"]["p50"] = p50_us
        (tmp_path / "points" / point).mkdir(parents=True)
        (tmp_path / "points" / point / "summary.json").write_text(json.dumps(summary))
    described = {"param": "shards", "unit": param.unit, "values": values, "points": points, "repeats": 2}
    (tmp_path / "sweep.json").write_text(json.dumps(described))
    frame = sweep_frame(tmp_path)
    assert frame.query("strategy == 'naive'")["point"].tolist() == points
    fig = sweep_figure(frame, "shards", param.unit)
    try:
        left = fig.axes[0]
        assert left.get_xlabel() == "shards"  # not "shards (shards)"
        p50 = next(line for line in left.get_lines() if line.get_label() == "naive p50")
        assert list(p50.get_ydata()) == [0.4, 0.5]  # medians of (0.3, 0.5) and (0.4, 0.6) ms
        assert left.containers, "error bars from the lowest to the highest run"
        assert "median of 2 runs" in fig.texts[0].get_text()
    finally:
        plt.close(fig)
