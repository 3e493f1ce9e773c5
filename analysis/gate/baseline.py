"""Run summaries and self-describing baseline files for `lbbench gate` and `lbbench baseline save`."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.gate.checks import GateInputError
from runfiles import RunFiles

BASELINE_VERSION = 1
BASELINES_DIR = Path("results") / "baselines"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# Options that say where a run wrote to, not what it measured.
_NOT_SCENARIO = ("out", "overwrite", "keep_data")


@dataclass(frozen=True)
class Measured:
    """One run's summary.json, labelled for messages (run id or file)."""

    label: str
    summary: dict[str, Any]

    @property
    def valid(self) -> bool:
        """Every strategy measured Redis, not the load generator (no entry says ``valid: false``)."""
        return all(s.get("valid") is not False for s in (self.summary.get("strategies") or {}).values())


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise GateInputError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise GateInputError(f"{path} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise GateInputError(f"{path} is not a JSON object")
    return data


def load_run(run_dir: Path) -> tuple[Measured, dict[str, Any]]:
    """A run directory's summary.json and meta.json (meta empty when absent)."""
    files = RunFiles(run_dir)
    summary_path = files.summary
    if not summary_path.is_file():
        raise GateInputError(f"{run_dir} has no summary.json (not a run directory, or run `lbbench report`)")
    summary = _read_json(summary_path)
    if not isinstance(summary.get("strategies"), dict):
        raise GateInputError(f"{summary_path} has no strategies")
    meta_path = files.meta
    meta = _read_json(meta_path) if meta_path.is_file() else {}
    return Measured(str(summary.get("run_id") or run_dir.name), summary), meta


def same_scenario(runs: Sequence[Measured], what: str) -> dict[str, Any]:
    """The scenario all runs share; GateInputError naming the first difference otherwise."""
    first = runs[0].summary.get("scenario") or {}
    for run in runs[1:]:
        other = run.summary.get("scenario") or {}
        for key in sorted(set(first) | set(other)):
            if first.get(key) != other.get(key):
                raise GateInputError(
                    f"{what} differ in scenario.{key}: {first.get(key)!r} ({runs[0].label})"
                    f" vs {other.get(key)!r} ({run.label}); repeats must be of one scenario"
                )
    return dict(first)


def scenario_differences(current: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    """Human-readable scenario keys where the current runs and the baseline differ."""
    return [
        f"scenario.{key}: baseline {baseline.get(key)!r}, current {current.get(key)!r}"
        for key in sorted(set(current) | set(baseline))
        if current.get(key) != baseline.get(key)
    ]


def make_baseline(
    name: str, runs: Sequence[tuple[Measured, dict[str, Any]]], saved_utc: str, saved_from: dict[str, Any]
) -> dict[str, Any]:
    """A baseline: where and how the runs were measured (from their meta.json) plus their metrics."""
    if not _NAME.fullmatch(name):
        raise GateInputError(f"bad baseline name {name!r}: use letters, digits, '.', '_' and '-'")
    scenario = same_scenario([m for m, _ in runs], "baseline runs")
    first_meta = runs[0][1]
    options = {k: v for k, v in (first_meta.get("options") or {}).items() if k not in _NOT_SCENARIO}
    return {
        "baseline_version": BASELINE_VERSION,
        "name": name,
        "saved_utc": saved_utc,
        "saved_from": saved_from,
        "git": first_meta.get("git"),
        "machine": first_meta.get("machine"),
        "versions": first_meta.get("versions"),
        "server": first_meta.get("server"),
        "scenario": scenario,
        "options": options,
        "runs": [
            {
                "run_id": measured.label,
                "created_utc": measured.summary.get("created_utc"),
                "git": meta.get("git"),
                "valid": measured.summary.get("valid"),
                "strategies": measured.summary["strategies"],
            }
            for measured, meta in runs
        ],
    }


def write_baseline(baseline: dict[str, Any], directory: Path, overwrite: bool) -> Path:
    """Write ``<directory>/<name>.json``; refuses to replace one unless ``overwrite``."""
    path = directory / f"{baseline['name']}.json"
    if path.exists() and not overwrite:
        raise GateInputError(f"{path} exists; pass --overwrite to replace it")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(baseline, indent=1) + "\n")
    except OSError as exc:
        raise GateInputError(f"cannot write {path}: {exc.strerror}") from None
    return path


@dataclass(frozen=True)
class Reference:
    """What a gate compares with: one or more runs, and a description for gate.json."""

    runs: list[Measured]
    description: dict[str, Any]


def load_reference(path: Path) -> Reference:
    """A baseline file, a summary.json or a run directory, as the runs it holds."""
    if path.is_dir():
        measured, meta = load_run(path)
        git = meta.get("git") or {}
        return Reference([measured], {"path": str(path), "kind": "run", "runs": 1, "git": git})
    data = _read_json(path)
    if "baseline_version" in data:
        if data["baseline_version"] != BASELINE_VERSION:
            raise GateInputError(f"{path}: baseline_version {data['baseline_version']} is not supported")
        scenario = data.get("scenario") or {}
        runs = [
            Measured(str(run.get("run_id")), {"scenario": scenario, "strategies": run["strategies"]})
            for run in data.get("runs") or []
            if isinstance(run, dict) and isinstance(run.get("strategies"), dict)
        ]
        if not runs:
            raise GateInputError(f"{path}: baseline holds no runs")
        description = {"path": str(path), "kind": "baseline", "name": data.get("name"), "runs": len(runs)}
        return Reference(runs, description | {"git": data.get("git") or {}})
    if isinstance(data.get("strategies"), dict):
        measured = Measured(str(data.get("run_id") or path), data)
        return Reference([measured], {"path": str(path), "kind": "summary", "runs": 1, "git": {}})
    raise GateInputError(f"{path} is neither a baseline, a summary.json nor a run directory")
