"""summary.json through its types and its JSON Schema: every committed run validates and reads back whole."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from analysis.figures.summary import build_summary
from runfiles.summary import Memory, StrategySummary, Summary, read_summary, summary_schema
from runfiles.typed import field_value, from_json, to_json
from tests.helpers import REPO
from tests.unit.synthetic_run import Redis, steady_worker, write_run

SCHEMA = json.loads((REPO / "docs" / "summary.schema.json").read_text())
REFERENCE = sorted((REPO / "results" / "reference").rglob("summary.json"))


def validate(summary: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(summary)


def test_the_committed_schema_is_the_types_and_is_a_valid_schema() -> None:
    assert summary_schema() == SCHEMA
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", REFERENCE, ids=lambda p: str(p.relative_to(REPO / "results" / "reference")))
def test_every_committed_reference_run_validates(path: Path) -> None:
    validate(json.loads(path.read_text()))


def test_reference_runs_exist_to_check() -> None:
    assert len(REFERENCE) >= 12, "schema versions 1 and 2 runs and sweep points"


@pytest.fixture
def fresh(tmp_path: Path) -> dict[str, Any]:
    workers = [steady_worker("w0", seconds=5, per_s=100), steady_worker("w1", seconds=5, per_s=100)]
    run = write_run(tmp_path / "run", {"naive": (workers, Redis(10_000, 20_000_000, 700_000), {})})
    return build_summary(run).to_json()


def test_a_fresh_summary_validates_and_a_read_writes_it_back_unchanged(fresh: dict[str, Any]) -> None:
    validate(fresh)
    assert from_json(Summary, fresh).to_json() == fresh
    assert json.dumps(from_json(Summary, fresh).to_json()) == json.dumps(fresh), "same key order"


def test_the_schema_refuses_a_wrong_type(fresh: dict[str, Any]) -> None:
    broken = copy.deepcopy(fresh)
    broken["strategies"]["naive"]["latency_us"]["p50"] = "fast"
    with pytest.raises(jsonschema.ValidationError, match="is not valid under any of the given schemas"):
        validate(broken)
    broken = copy.deepcopy(fresh)
    broken["strategies"]["naive"]["requests"] = 1.5
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)


def test_a_summary_from_before_a_field_reads_it_as_none(tmp_path: Path) -> None:
    old = {"schema_version": 1, "strategies": {"naive": {"requests": 5, "latency_us": {"p50": 100}}}}
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(old))
    summary = read_summary(path)
    naive = summary.strategies["naive"]
    assert (naive.requests, naive.rps, naive.cross_check) == (5, None, None)
    assert naive.latency_us is not None
    assert (naive.latency_us.p50, naive.latency_us.p99) == (100, None)
    assert summary.scenario is None


def test_flattened_and_omitted_fields_keep_the_files_shape() -> None:
    memory = {"shard_key_bytes": 10, "bytes_per_player": 1.0, "cache_key_bytes": 2, "cache_vs_shards": 0.2}
    memory |= {"global_set_bytes": None, "cache_blob_bytes": 7}
    typed = from_json(Memory, memory)
    assert typed.by_label == {"global_set_bytes": None, "cache_blob_bytes": 7}
    assert to_json(typed) == memory
    assert field_value(typed, "cache_blob_bytes") == 7
    unmeasured = {"available": False, "reason": "--capacity-s 0: no capacity probe in this run"}
    assert from_json(Summary, {"capacity": unmeasured}).to_json()["capacity"] == unmeasured
    unsampled = from_json(StrategySummary, {"staleness": {"samples": 0, "failed_samples": 2}})
    assert to_json(unsampled)["staleness"] == {"samples": 0, "failed_samples": 2}


def test_a_run_kept_without_raw_data_renders_its_report_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lbbench.main import main

    run = tmp_path / "run"
    shutil.copytree(REPO / "results" / "reference" / "20261127T195007Z-naive-cached", run)
    images = [line for line in (run / "report.md").read_text().splitlines() if line.startswith("![")]
    assert main(["report", str(run)]) == 0
    first = (run / "report.md").read_text()
    assert [line for line in first.splitlines() if line.startswith("![")] == images
    assert "## Seed claims vs measured" in first
    assert main(["report", str(run)]) == 0
    assert (run / "report.md").read_text() == first
    assert "has no raw data: report.md rendered again from its summary.json" in capsys.readouterr().err
