"""A history of runs, one tidy row per run and strategy, and the gate that reads it for change points.

The file is CSV: ``time`` (the run's UTC start), ``run_id``, ``commit``, ``branch``, ``dirty``,
``machine``, ``scenario`` (a hash of summary.json's scenario: runs with equal hashes ran the same
thing), ``strategy``, then every metric of the metric table by its tidy name (analysis/metrics/table.py),
empty where a strategy has none. pandas reads it as it is; so does Apache Otava, given one series per
file (docs/performance-gate.md shows `otava analyze` on a history split per strategy).

A series is one scenario, strategy and machine on one branch, in time order. The gate looks for change
points (analysis/gate/changepoints.py) in each metric that has a better direction and calls a
**regression** a significant change the wrong way by at least :data:`MIN_EFFECT` whose new level began
within the newest :data:`RECENT_RUNS` runs of the series: older ones are history, already
reported when they were new.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import metrics
from analysis.gate.changepoints import ALPHA, MIN_SEGMENT, ChangePoint, change_points
from analysis.gate.checks import GateInputError
from analysis.gate.evaluate import FAIL, PASS, CheckResult
from analysis.metrics import HIGHER, LOWER
from runfiles import write_text_whole

#: What makes one series: the same scenario run for one strategy on one machine.
SERIES = ["scenario", "strategy", "machine"]
KEYS = ("time", "run_id", "commit", "branch", "dirty", "machine", "scenario", "strategy")
#: A change smaller than this is not called a regression, however sure (5% of a level).
MIN_EFFECT = 0.05
#: Change points whose new level began within this many newest runs of a series can fail the gate:
#: twice the fewest a change needs after it, so a job appending 3 repeats per commit flags a
#: regression at the commit that made it and at the next, then reports it as an earlier change.
RECENT_RUNS = 2 * MIN_SEGMENT


def metric_columns() -> list[str]:
    """Every metric of the table that lives at a path of a strategy's entry, in the table's order."""
    return [m.name for m in metrics.METRICS if m.path is not None]


def scenario_hash(scenario: dict[str, Any]) -> str:
    """12 hex digits naming a scenario: equal for runs that ran the same one."""
    text = json.dumps(scenario, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def machine_name(machine: dict[str, Any]) -> str:
    """The machine as meta.json describes it, in a few words (CPU, cores, memory)."""
    memory_gib = (machine.get("memory_bytes") or 0) / 2**30
    return f"{machine.get('cpu_model') or '?'} x{machine.get('cpu_count') or '?'} {memory_gib:.0f} GiB"


def _cell(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def history_rows(summary: dict[str, Any], meta: dict[str, Any], branch: str | None) -> list[dict[str, Any]]:
    """One row per strategy of a run: its keys, then every metric column."""
    git = meta.get("git") or {}
    keys = {
        "time": meta.get("created_utc") or summary.get("created_utc") or "",
        "run_id": summary.get("run_id") or meta.get("run_id") or "",
        "commit": git.get("commit") or "",
        "branch": branch or git.get("branch") or "",
        "dirty": "" if git.get("dirty") is None else str(bool(git["dirty"])).lower(),
        "machine": machine_name(meta.get("machine") or {}),
        "scenario": scenario_hash(summary.get("scenario") or {}),
    }
    paths = {m.name: m.path for m in metrics.METRICS if m.path is not None}
    rows = []
    for strategy, entry in (summary.get("strategies") or {}).items():
        row: dict[str, Any] = {**keys, "strategy": strategy}
        row |= {name: _cell(metrics.value_at(entry, path)) for name, path in paths.items()}
        rows.append(row)
    return rows


def read_history(path: Path) -> pd.DataFrame:
    """The history file (an empty frame with the columns when it does not exist yet)."""
    if not path.exists():
        return pd.DataFrame(columns=[*KEYS, *metric_columns()])
    try:
        frame = pd.read_csv(path, dtype=dict.fromkeys(KEYS, "string"), keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise GateInputError(f"cannot read the history {path}: {exc}") from None
    missing = [key for key in KEYS if key not in frame.columns]
    if missing:
        raise GateInputError(f"{path} is not a run history: no {', '.join(missing)} column")
    for column in frame.columns:
        if column not in KEYS:
            frame[column] = pd.to_numeric(frame[column].replace("", None), errors="coerce")
    return frame


def append_history(path: Path, rows: Sequence[dict[str, Any]]) -> int:
    """Add rows whose (run_id, strategy) the file lacks; the file is rewritten whole. Returns how many."""
    frame = read_history(path)
    have = set(zip(frame["run_id"], frame["strategy"], strict=True))
    new = [row for row in rows if (row["run_id"], row["strategy"]) not in have]
    if not new:
        return 0
    columns = [*KEYS, *metric_columns()]
    columns += [c for c in frame.columns if c not in columns]  # a metric an older table had
    merged = pd.concat([frame, pd.DataFrame(new)], ignore_index=True).reindex(columns=columns)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_whole(path, merged.to_csv(index=False))
    except OSError as exc:
        raise GateInputError(f"cannot write the history {path}: {exc.strerror}") from None
    return len(new)


@dataclass(frozen=True)
class SeriesChange:
    """A significant change point of one metric in one series."""

    scenario: str
    strategy: str
    machine: str
    metric: str
    commit: str  # the first commit at the new level
    time: str
    runs_before: int
    runs_after: int
    point: ChangePoint
    regression: bool  # the wrong way, by MIN_EFFECT or more, and recent
    recent: bool

    @property
    def verdict(self) -> str:
        if self.regression:
            return "REGRESSION"
        return "change" if self.recent else "earlier change"


def gated_metrics() -> dict[str, str]:
    """Metric name -> its better direction, for every metric that has one."""
    return {m.name: m.better for m in metrics.METRICS if m.better is not None and m.path is not None}


def _worse(direction: str, change: float) -> bool:
    return change > 0 if direction == LOWER else change < 0 if direction == HIGHER else False


def series_changes(frame: pd.DataFrame) -> list[SeriesChange]:
    """Every significant change of a gated metric, per scenario, strategy and machine (one branch's
    rows: :func:`on_branch`)."""
    found = []
    directions = gated_metrics()
    frame = frame.sort_values("time", kind="stable")
    for (scenario, strategy, machine), series in frame.groupby(SERIES, sort=True):
        for metric, direction in directions.items():
            if metric not in series.columns:
                continue
            values = series[metric].dropna()
            if values.empty:
                continue
            for point in change_points(values.tolist()):
                first = series.loc[values.index[point.index]]
                recent = len(values) - point.index <= RECENT_RUNS
                regression = recent and _worse(direction, point.change) and abs(point.change) >= MIN_EFFECT
                found.append(
                    SeriesChange(
                        scenario=str(scenario),
                        strategy=str(strategy),
                        machine=str(machine),
                        metric=metric,
                        commit=str(first["commit"]),
                        time=str(first["time"]),
                        runs_before=point.index,
                        runs_after=len(values) - point.index,
                        point=point,
                        regression=regression,
                        recent=recent,
                    )
                )
    return found


def history_table(changes: Sequence[SeriesChange]) -> str:
    """The change points as a Markdown table, newest first."""
    header = "| series | metric | from commit | runs before / after | before | after | change | p | verdict |"
    lines = [header, "|:--|:--|:--|--:|--:|--:|--:|--:|:--|"]
    for c in sorted(changes, key=lambda c: c.time, reverse=True):
        lines.append(
            f"| {c.strategy} @ {c.scenario} | {c.metric} | {c.commit[:10]} | {c.runs_before} / {c.runs_after}"
            f" | {c.point.before_mean:,.4g} | {c.point.after_mean:,.4g} | {c.point.change:+.1%}"
            f" | {c.point.p_value:.2g} | {c.verdict} |"
        )
    return "\n".join(lines)


SIGNIFICANCE = (
    f"a change stands at Student's t-test p < {ALPHA:g} between the levels either side of it; a regression"
    f" is one the wrong way by {MIN_EFFECT:.0%} or more that began within the newest {RECENT_RUNS} runs"
)


def on_branch(frame: pd.DataFrame, branch: str | None) -> tuple[str, pd.DataFrame]:
    """The rows of ``branch`` (by default the newest row's branch) and its name; bad input if none."""
    if frame.empty:
        raise GateInputError("the history has no runs")
    if branch is None:
        branch = str(frame.sort_values("time", kind="stable")["branch"].iloc[-1])
    rows = frame[frame["branch"] == branch]
    if rows.empty:
        known = ", ".join(sorted(set(frame["branch"]))) or "none"
        raise GateInputError(f"the history has no runs on branch {branch!r} (it has {known})")
    return branch, rows


def history_results(frame: pd.DataFrame, changes: Sequence[SeriesChange] | None = None) -> list[CheckResult]:
    """One gate row per series and gated metric of one branch's rows: FAIL on a regression, PASS
    otherwise (its latest change, if any, in the note). ``changes``: :func:`series_changes` of
    ``frame`` where the caller has them already (finding them is the costly part)."""
    if frame.empty:
        raise GateInputError("the history has no runs")
    latest: dict[tuple[str, str, str, str], SeriesChange] = {}
    for found in series_changes(frame) if changes is None else changes:
        latest[(found.scenario, found.strategy, found.machine, found.metric)] = found
    rows = []
    for (scenario, strategy, machine), series in frame.groupby(SERIES, sort=True):
        for metric in gated_metrics():
            values = series[metric].dropna() if metric in series.columns else pd.Series(dtype=float)
            if values.empty:
                continue
            change = latest.get((str(scenario), str(strategy), str(machine), metric))
            name = f"history: {strategy}.{metric} @ {scenario} on {machine}"
            if change is None:
                level = float(values.mean())
                note = f"no change point in {len(values)} runs"
                samples = [float(v) for v in values]
                rows.append(_row(name, PASS, current=level, baseline=None, samples=samples, note=note))
                continue
            point = change.point
            note = (
                f"{change.verdict} from {change.commit[:10]} ({change.time}): {point.change:+.1%},"
                f" p={point.p_value:.2g}, {change.runs_before} runs before, {change.runs_after} after"
            )
            verdict = FAIL if change.regression else PASS
            rows.append(
                _row(
                    name,
                    verdict,
                    current=point.after_mean,
                    baseline=point.before_mean,
                    samples=[],
                    note=note,
                    change=point.change,
                )
            )
    return rows


def _row(
    name: str,
    verdict: str,
    *,
    current: float,
    baseline: float | None,
    samples: list[float],
    note: str,
    change: float | None = None,
) -> CheckResult:
    return CheckResult(
        check=name,
        kind="history",
        verdict=verdict,
        current=current,
        limit=current if baseline is None else baseline * (1 + MIN_EFFECT),
        baseline=baseline,
        change=change,
        cv=None,
        band=None,
        samples=samples,
        baseline_samples=[],
        note=note,
    )


def otava_export(frame: pd.DataFrame, out: Path) -> list[str]:
    """One CSV per series (Otava's CSV tests read a whole file as one series, with no row filter) and
    an ``otava.yaml`` naming them as tests, each metric with a better direction given Otava's sign (1
    higher is better, -1 lower). Returns the tests' names; run from ``out`` (Otava opens the files
    relative to where it runs), `otava analyze --config-file otava.yaml TEST` reads them."""
    directions = gated_metrics()
    out.mkdir(parents=True, exist_ok=True)
    tests: list[str] = []
    yaml = ["# Written by `lbbench history otava`: one test per series of the history.", "tests:"]
    for (scenario, strategy, machine, branch), series in frame.groupby([*SERIES, "branch"], sort=True):
        # Otava reads every cell of a metric's column as a number: only metrics present in every run.
        present = [m for m in directions if m in series.columns and series[m].notna().all()]
        if not present:
            continue
        slug = "".join(c if c.isalnum() else "-" for c in f"{machine}").strip("-").lower()
        name = f"{strategy}-{scenario}-{slug}" + (f"-{branch}" if branch else "")
        series.sort_values("time", kind="stable")[["time", "commit", "branch", *present]].to_csv(
            out / f"{name}.csv", index=False
        )
        yaml += [f"  {name}:", "    type: csv", f"    file: {name}.csv", "    time_column: time"]
        yaml += ["    attributes: [commit, branch]", "    metrics:"]
        signs = {m: 1 if directions[m] == HIGHER else -1 for m in present}
        yaml += [f"      {m}: {{column: {m}, direction: {sign}}}" for m, sign in signs.items()]
        tests.append(name)
    (out / "otava.yaml").write_text("\n".join(yaml) + "\n")
    return tests
