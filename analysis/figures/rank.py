"""summary.json's ``rank`` section: rank(player) against the exact rank (bench/probes/rankcheck.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from runfiles import RunFiles


def rank_summary(record: dict[str, Any]) -> dict[str, Any]:
    """Error and cost per query from one ``rank.json`` record.

    Errors are ``|rank - exact rank|`` over the sampled players both answered; the relative error
    divides by the exact rank. ``unanswered`` counts players the strategy returned None for.
    """
    queries = int(record["queries"])
    pairs = [(r, e) for r, e in zip(record["rank"], record["exact_rank"], strict=True) if None not in (r, e)]
    got = np.array([r for r, _ in pairs], dtype=np.float64)
    exact = np.array([e for _, e in pairs], dtype=np.float64)
    error_abs = np.abs(got - exact)
    error_rel = error_abs / exact if len(exact) else error_abs
    query_us = np.array(record["query_us"], dtype=np.float64)

    def pct(values: npt.NDArray[np.float64], q: float, digits: int) -> float | None:
        return round(float(np.percentile(values, q)), digits) if len(values) else None

    return {
        "queries": queries,
        "rank_is_exact": bool(record["rank_is_exact"]),
        "unanswered": queries - len(pairs),
        "commands_per_query": round(record["commands"] / queries, 3) if queries else None,
        "bytes_out_per_query": round(record["bytes_received"] / queries, 1) if queries else None,
        "bytes_in_per_query": round(record["bytes_sent"] / queries, 1) if queries else None,
        "query_us_p50": pct(query_us, 50, 1),
        "rank_error_abs_p50": pct(error_abs, 50, 1),
        "rank_error_abs_p99": pct(error_abs, 99, 1),
        "rank_error_abs_max": float(error_abs.max()) if len(error_abs) else None,
        "rank_error_rel_p50": pct(error_rel, 50, 6),
        "rank_error_rel_p99": pct(error_rel, 99, 6),
        "share_exact": round(float(np.mean(error_abs == 0)), 4) if len(error_abs) else None,
    }


def rank_section(run_dir: Path, strategy: str) -> dict[str, Any] | None:
    """The ``rank`` entry of a strategy, None for runs without ``raw/<strategy>/rank.json``."""
    path = RunFiles(run_dir).phase(strategy).rank
    if not path.exists():
        return None
    return rank_summary(json.loads(path.read_text()))
