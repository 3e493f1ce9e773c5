"""Parsing gate checks."""

from __future__ import annotations

import pytest

from analysis.gate.checks import Bound, GateInputError, Metric, Ratio, parse_check


def test_the_issue_examples_parse() -> None:
    check = parse_check("cached.redis_commands_per_request == 1")
    assert check.operand == Metric(("cached", "redis_commands_per_request"))
    assert (check.op, check.bound) == ("==", Bound("number", number=1.0))
    assert check.exact

    check = parse_check("naive.latency_us.p99 < 5000")
    assert check.operand == Metric(("naive", "latency_us", "p99"))
    assert check.bound.apply(check.bound.number) == 5000
    assert not check.exact

    check = parse_check("naive.bytes_out_per_request <= baseline * 1.05")
    assert check.uses_baseline
    assert check.bound.apply(1000.0) == pytest.approx(1050.0)

    check = parse_check("ratio(naive.latency_us.p50, cached.latency_us.p50) >= 3")
    assert check.operand == Ratio(
        Metric(("naive", "latency_us", "p50")), Metric(("cached", "latency_us", "p50"))
    )
    assert str(check.operand) == "ratio(naive.latency_us.p50, cached.latency_us.p50)"
    assert not check.exact


def test_metric_bounds_offsets_and_tolerances() -> None:
    check = parse_check("naive.redis_commands_per_request==scenario.shards")
    assert check.bound == Bound("metric", metric=Metric(("scenario", "shards")))
    assert check.exact
    assert parse_check("naive.latency_us.p50 <= baseline + 1_000").bound.apply(500.0) == 1500.0
    assert parse_check("naive.latency_us.p50 >= baseline - 50").bound.apply(500.0) == 450.0
    assert parse_check("naive.bytes_out_per_request == baseline +- 2%").tolerance == pytest.approx(0.02)
    assert parse_check("naive.bytes_out_per_request == baseline ± 0.5 %").tolerance == pytest.approx(0.005)
    assert parse_check("cached.latency_us.p99 < 2.5e3").bound.number == 2500.0


def test_equality_forgives_rounding_and_honours_tolerance() -> None:
    exact = parse_check("cached.redis_commands_per_request == 1")
    assert exact.holds(1.0 + 1e-12, 1.0)
    assert not exact.holds(1.0001, 1.0)
    banded = parse_check("naive.bytes_out_per_request == baseline +- 2%")
    assert banded.holds(10_190.0, 10_000.0)
    assert banded.holds(9_810.0, 10_000.0)
    assert not banded.holds(10_210.0, 10_000.0)
    assert not banded.holds(9_790.0, 10_000.0)
    assert parse_check("naive.failures != 0").holds(1.0, 0.0)


@pytest.mark.parametrize(
    "text",
    [
        "naive.latency_us.p99 <<= 3",
        "naive.latency_us.p99 < ",
        "latency < 3",  # a metric needs strategy.key
        "naive.latency_us.p99 < baseline * x",
        "ratio(naive.latency_us.p50) > 2",
        "naive.latency_us.p99 < 5000 extra",
        "",
    ],
)
def test_malformed_check_is_one_line_naming_it(text: str) -> None:
    with pytest.raises(GateInputError) as info:
        parse_check(text)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"malformed check {text.strip()!r}")


def test_tolerance_needs_equality() -> None:
    with pytest.raises(GateInputError, match=r"a ± tolerance needs == or !="):
        parse_check("naive.bytes_out_per_request <= baseline +- 2%")
