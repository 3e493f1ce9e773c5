"""Staleness of the cached views: summary.json's figures from the staleness probe's samples."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def staleness_summary(samples: pd.DataFrame) -> dict[str, Any] | None:
    """summary.json ``staleness`` of one strategy; None when it was not sampled (no cache to go stale)."""
    if samples.empty:
        return None
    # An all-empty error column reads back as float NaN: only a non-empty text is a failure.
    failed = samples["error"].notna() & (samples["error"].astype(str) != "")
    ok = samples[~failed]
    if ok.empty:
        return {"samples": 0, "failed_samples": int(failed.sum())}
    differ = ok["entries_differ"].to_numpy(dtype=float)
    age_s = ok["cache_age_s"].dropna().to_numpy(dtype=float)
    displacement = ok["max_rank_displacement"].to_numpy(dtype=float)
    return {
        "samples": len(ok),
        "failed_samples": int(failed.sum()),
        "cache_age_s": {
            "mean": round(float(age_s.mean()), 2) if age_s.size else None,
            "max": round(float(age_s.max()), 2) if age_s.size else None,
        },
        "entries_differ": {
            "mean": round(float(differ.mean()), 2),
            "p95": round(float(np.percentile(differ, 95)), 1),
            "max": int(differ.max()),
        },
        "share_of_samples_differing": round(float((differ > 0).mean()), 3),
        "max_rank_displacement": {
            "mean": round(float(displacement.mean()), 2),
            "max": int(displacement.max()),
        },
        "missing_from_cache_max": int(ok["missing_from_cache"].max()),
        "max_score_error": float(ok["max_score_error"].max()),
    }
