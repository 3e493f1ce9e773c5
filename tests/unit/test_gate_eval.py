"""Gate verdicts on synthetic summaries: exact counters, the noise rule for timings, bad metrics."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from analysis.gate import noise
from analysis.gate.baseline import Measured
from analysis.gate.checks import GateInputError, parse_checks
from analysis.gate.evaluate import (
    EXIT_PASS,
    EXIT_REGRESSION,
    EXIT_UNSTABLE,
    FAIL,
    NO_CHANGE,
    PASS,
    UNSTABLE,
    evaluate,
)
from tests.unit.sample_summary import make_summary


def run(label: str, naive_p99_us: float = 8000.0, **naive: Any) -> Measured:
    """A synthetic run whose naive entry has this p99 and these overrides."""
    summary = make_summary()
    summary["strategies"]["naive"]["latency_us"]["p99"] = naive_p99_us
    summary["strategies"]["naive"].update(naive)
    return Measured(label, summary)


def verdicts(texts: list[str], runs: list[Measured], reference: list[Measured]) -> list[str]:
    return [r.verdict for r in evaluate(parse_checks(texts), runs, reference).results]


def test_exact_counters_pass_and_fail_without_noise_handling() -> None:
    current = [run("a")]
    checks = [
        "cached.redis_commands_per_request == 1",
        "naive.redis_commands_per_request == scenario.shards",
        "naive.nodes_per_request == 10",
        "cached.redis_commands_per_request == 2",
    ]
    result = evaluate(parse_checks(checks), current, [])
    assert [r.verdict for r in result.results] == [PASS, PASS, PASS, FAIL]
    assert all(r.kind == "exact" for r in result.results)
    assert (result.verdict, result.exit_for()) == (FAIL, EXIT_REGRESSION)


def test_exact_counter_must_hold_in_every_repeat() -> None:
    runs = [run("a"), run("b", redis_commands_per_request=11.0), run("c")]
    (row,) = evaluate(parse_checks(["naive.redis_commands_per_request == 10"]), runs, []).results
    assert row.verdict == FAIL
    assert row.current == 11.0
    assert "in b" in row.note


def test_bytes_band_against_baseline() -> None:
    baseline = [run("base", bytes_out_per_request=42_500.0)]
    check = ["naive.bytes_out_per_request == baseline +- 2%"]
    assert verdicts(check, [run("a", bytes_out_per_request=42_500.0 * 1.019)], baseline) == [PASS]
    (row,) = evaluate(parse_checks(check), [run("a", bytes_out_per_request=34_000.0)], baseline).results
    assert row.verdict == FAIL
    assert row.change == pytest.approx(-0.2)


def test_timing_change_inside_the_noise_band_is_no_change() -> None:
    baseline = [run("b1", 8000.0), run("b2", 8100.0), run("b3", 7950.0)]
    check = ["naive.latency_us.p99 <= baseline * 1.02"]
    # +3.7%: beyond the 2% threshold but inside the 5% band: cannot be told from noise.
    result = evaluate(parse_checks(check), [run("a", 8300.0), run("b", 8250.0), run("c", 8320.0)], baseline)
    (row,) = result.results
    assert row.verdict == NO_CHANGE
    assert row.band == pytest.approx(noise.MIN_NOISE_BAND)
    assert result.exit_for() == EXIT_PASS


def test_timing_regression_beyond_the_band_fails() -> None:
    baseline = [run("b1", 8000.0), run("b2", 8100.0), run("b3", 7950.0)]
    current = [run("a", 9000.0), run("b", 9100.0), run("c", 8950.0)]
    (row,) = evaluate(parse_checks(["naive.latency_us.p99 <= baseline * 1.05"]), current, baseline).results
    assert row.verdict == FAIL
    assert row.current == 9000.0
    assert row.baseline == 8000.0


def test_band_widens_with_measured_noise() -> None:
    # Baseline CV 6.25% (the worse of the two): band = 2 x CV = 12.5%, so a 10% slowdown is no change.
    baseline = [run("b1", 7500.0), run("b2", 8000.0), run("b3", 8500.0)]
    current = [run("a", 8300.0), run("b", 8800.0), run("c", 9300.0)]
    (row,) = evaluate(parse_checks(["naive.latency_us.p99 <= baseline * 1.05"]), current, baseline).results
    assert row.verdict == NO_CHANGE
    assert row.band == pytest.approx(0.125)
    assert row.change == pytest.approx(0.1)


def test_noisy_series_is_unstable_not_pass_or_fail() -> None:
    # CV ~37%: band ~74%; median 7,750 is 3% from the baseline and from the 8,000 limit.
    noisy = [run("a", 5000.0), run("b", 9000.0), run("c", 6500.0), run("d", 12000.0)]
    for check in ("naive.latency_us.p99 <= baseline * 1.05", "naive.latency_us.p99 < 8000"):
        result = evaluate(parse_checks([check]), noisy, [run("base", 8000.0)])
        assert result.results[0].verdict == UNSTABLE, check
        assert (result.results[0].cv or 0.0) > noise.MAX_CV
        assert (result.verdict, result.exit_for()) == (UNSTABLE, EXIT_UNSTABLE)


def test_noise_cannot_hide_what_stands_out_from_it() -> None:
    noisy = [run("a", 5000.0), run("b", 9000.0), run("c", 6500.0), run("d", 12000.0)]
    # A limit far beyond the band is decided despite the noise...
    assert verdicts(["naive.latency_us.p99 < 100000"], noisy, []) == [PASS]
    assert verdicts(["naive.latency_us.p99 > 100000"], noisy, []) == [FAIL]
    # ... and so is a change from the baseline larger than the band (median 7,750 vs 2,000: +288%).
    assert verdicts(["naive.latency_us.p99 <= baseline * 1.05"], noisy, [run("base", 2000.0)]) == [FAIL]


def test_noisy_baseline_is_unstable_too() -> None:
    baseline = [run("b1", 5000.0), run("b2", 9000.0), run("b3", 12000.0)]
    assert verdicts(["naive.latency_us.p99 <= baseline * 1.05"], [run("a")], baseline) == [UNSTABLE]


def test_regression_outranks_unstable() -> None:
    noisy = [run("a", 5000.0), run("b", 9000.0), run("c", 12000.0)]
    checks = ["naive.latency_us.p99 < 9000", "cached.redis_commands_per_request == 2"]
    result = evaluate(parse_checks(checks), noisy, [])
    assert [r.verdict for r in result.results] == [UNSTABLE, FAIL]
    assert result.exit_for() == EXIT_REGRESSION


def test_same_run_ratio_is_taken_per_run() -> None:
    current = [run("a")]
    (row,) = evaluate(
        parse_checks(["ratio(naive.latency_us.p50, cached.latency_us.p50) >= 3"]), current, []
    ).results
    assert row.current == pytest.approx(3000 / 400)
    assert row.verdict == PASS
    assert verdicts(["ratio(naive.latency_us.p50, cached.latency_us.p50) >= 10"], current, []) == [FAIL]


def test_a_run_against_itself_passes_every_kind_of_check() -> None:
    same = [run("a")]
    checks = [
        "naive.bytes_out_per_request == baseline",
        "naive.latency_us.p99 <= baseline * 1.05",
        "ratio(naive.latency_us.p50, cached.latency_us.p50) >= baseline * 0.9",
    ]
    assert verdicts(checks, same, copy.deepcopy(same)) == [PASS, NO_CHANGE, NO_CHANGE]
    assert evaluate(parse_checks(checks), same, same).exit_for() == EXIT_PASS


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (
            "bogus.latency_us.p99 < 1",
            "unknown metric bogus.latency_us.p99: no strategy 'bogus' in a (has naive, cached)",
        ),
        (
            "naive.latency_us.p42 < 1",
            "unknown metric naive.latency_us.p42: naive.latency_us has no 'p42' in a",
        ),
        ("naive.refresher.refreshes > 1", "metric naive.refresher.refreshes: naive.refresher is null in a"),
        ("naive.latency_us < 1", "metric naive.latency_us is not a number in a"),
        ("naive.refresher > 1", "metric naive.refresher is null in a"),
        ("naive.latency_us.p99 < baseline", "compares with the baseline: pass --baseline FILE"),
    ],
)
def test_bad_metrics_name_themselves(check: str, message: str) -> None:
    with pytest.raises(GateInputError) as info:
        evaluate(parse_checks([check]), [run("a")], [])
    assert message in str(info.value)


def test_no_checks_is_bad_input() -> None:
    with pytest.raises(GateInputError, match="no checks"):
        evaluate([], [run("a")], [])


def test_cv_and_band_rule() -> None:
    assert noise.coefficient_of_variation([100.0]) is None
    assert noise.coefficient_of_variation([100.0, 100.0]) == 0.0
    assert noise.coefficient_of_variation([0.0, 0.0]) == 0.0
    assert noise.coefficient_of_variation([90.0, 110.0]) == pytest.approx(14.142 / 100, rel=1e-3)
    assert noise.noise_band(None) == 0.05
    assert noise.noise_band(0.01) == 0.05
    assert noise.noise_band(0.04) == pytest.approx(0.08)
