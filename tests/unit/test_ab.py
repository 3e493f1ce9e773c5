"""The interleaved A/B rule: paired log ratios, their interval, the test and the minimum effect."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analysis.gate.ab import ALPHA, MIN_EFFECT, Round, ab_results, differences, holm
from analysis.gate.baseline import Measured
from analysis.gate.evaluate import FAIL, PASS
from tests.unit.sample_summary import make_summary

REPO = Path(__file__).resolve().parents[2]


def run(label: str, cached_p50_us: float, valid: bool = True) -> Measured:
    summary: dict[str, Any] = copy.deepcopy(make_summary())
    summary["strategies"]["cached"]["latency_us"]["p50"] = cached_p50_us
    summary["strategies"]["cached"]["valid"] = valid
    return Measured(label, summary)


def rounds_of(a_p50s: list[float], b_p50s: list[float]) -> list[Round]:
    return [
        Round(run(f"a{i}", a), run(f"b{i}", b), "a")
        for i, (a, b) in enumerate(zip(a_p50s, b_p50s, strict=True))
    ]


def cached_p50(rounds: list[Round]) -> Any:
    return next(d for d in differences(rounds) if (d.strategy, d.metric) == ("cached", "latency_us_p50"))


def test_a_drifting_machine_cancels_within_rounds() -> None:
    # The level doubles over the rounds; B is 12% slower than A in every round.
    a = [170.0, 200.0, 260.0, 300.0, 340.0, 250.0]
    diff = cached_p50(rounds_of(a, [x * 1.12 for x in a]))
    assert diff.change == pytest.approx(0.12)
    assert diff.p_value == 0.0  # no spread at all in the ratios
    assert diff.regression


def test_noise_alone_passes_and_a_shift_beyond_it_fails_with_its_interval() -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(170, 8, 8)
    same = cached_p50(rounds_of(list(a), list(a * np.exp(rng.normal(0, 0.04, 8)))))
    assert not same.regression
    assert same.low < 0 < same.high
    slower = cached_p50(rounds_of(list(a), list(a * 1.15 * np.exp(rng.normal(0, 0.04, 8)))))
    assert slower.regression
    assert slower.p_value < ALPHA
    assert slower.low < 0.15 < slower.high


def test_a_sure_change_under_the_minimum_effect_passes() -> None:
    a = [170.0, 171.0, 169.0, 170.0, 172.0]
    tiny = cached_p50(rounds_of(a, [x * (1 + MIN_EFFECT / 2) for x in a]))
    assert tiny.p_value < ALPHA
    assert not tiny.regression


def test_a_faster_b_is_no_regression_and_an_invalid_run_is_one() -> None:
    a = [170.0, 180.0, 175.0]
    rows = {row.check: row for row in ab_results(differences(rounds_of(a, [x * 0.7 for x in a])))}
    assert rows["ab: cached.latency_us_p50 of B vs A"].verdict == PASS
    rounds = rounds_of(a, a)
    rounds[1] = Round(rounds[1].a, run("b1", 175.0, valid=False), "b")
    rows = {row.check: row for row in ab_results(differences(rounds))}
    assert rows["ab: cached.latency_us_p50 of B vs A"].verdict == FAIL
    assert "not valid: B b1" in rows["ab: cached.latency_us_p50 of B vs A"].note


def test_holm_multiplies_the_smallest_p_by_the_number_of_checks_and_keeps_the_order() -> None:
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_one_check_just_under_alpha_among_six_is_no_longer_a_regression() -> None:
    # p of about 0.03 on cached p50 alone: significant by itself, not once the six checks are counted.
    a = [170.0, 180.0, 175.0, 172.0, 168.0, 177.0]
    factors = [1.21, 0.99, 1.14, 1.02, 1.25, 1.06]
    diff = cached_p50(rounds_of(a, [x * f for x, f in zip(a, factors, strict=True)]))
    assert diff.p_value < ALPHA <= diff.p_adjusted
    assert diff.change >= MIN_EFFECT
    assert not diff.regression
    assert "Holm-adjusted" in ab_results([diff])[0].note


def test_fewer_than_three_rounds_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 3 rounds"):
        differences(rounds_of([1.0, 2.0], [1.0, 2.0]))


def test_the_ci_example_is_a_valid_github_workflow() -> None:
    # check-jsonschema carries SchemaStore's GitHub workflow schema: no network needed.
    result = subprocess.run(
        [
            str(REPO / ".venv" / "bin" / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            str(REPO / "docs" / "ci-example.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
