"""The plan's pure parts: the target's grammar, the cost fits, the projection and the choice."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from analysis.figures.costfit import Point, client_fit, redis_fit
from analysis.figures.plan import TIE_FRACTION, _why, make_plan, measured
from analysis.figures.target import SEED, Target
from analysis.figures.validation import EXACT, QUANTITIES, SPREAD_FLOOR, WITHIN, _passes
from bench.run.planruns import HIGH_RPS, LOW_RPS, MAX_PLAYERS, MAX_SHARDS, measurement
from lbbench.main import parse_command
from lbbench.targetspec import TargetKind, format_target
from tests.unit.sample_summary import strategy_entry, typed


def test_the_default_target_is_the_seeds_scenario() -> None:
    # docs/planning.md and `lbbench plan --help` state these defaults.
    assert dataclasses.asdict(SEED) == {
        "players": 100_000_000,
        "shards": 10,
        "rps": 10_000.0,
        "read_write_ratio": 1000,
        "top_n": 100,
        "cached_entries": 1000,
        "refresh_interval_s": 60.0,
        "network": "same-zone",
        "slo_p99_ms": 10.0,
        "max_staleness_s": 60.0,
        "server_cores": 1,
        "app_cores": None,
    }


def test_target_text_takes_suffixes_units_and_keys_without_their_unit() -> None:
    target = TargetKind().parse("players=20M,shards=30,rps=50k,slo_p99_ms=5,max_staleness=30s")
    assert (target.players, target.shards, target.rps) == (20_000_000, 30, 50_000.0)
    assert (target.slo_p99_ms, target.max_staleness_s) == (5.0, 30.0)
    assert TargetKind().parse("refresh_interval_s=500ms").refresh_interval_s == 0.5
    assert TargetKind().parse(format_target(target)) == target  # scenario.toml writes it back equal


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("player=5", "did you mean 'players'"),
        ("players=1.5", "whole number"),
        ("shards=0", "shards must be positive"),
        ("top_n=2000", "more than the 1000 cached entries"),
        ("network=mars", "not a built-in profile"),
        ("players", "key=value pairs"),
        ("rps=fast", "not a number"),
    ],
)
def test_a_bad_target_says_which_key(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TargetKind().parse(text)


def test_a_scenario_files_target_table_is_the_plans_and_no_other_commands(tmp_path: Path) -> None:
    config = tmp_path / "tier.toml"
    config.write_text(
        'players = 50_000\n\n[target]\nplayers = 20_000_000\nshards = 30\nmax_staleness = "30s"\n'
    )
    _, args = parse_command(["plan", "--config", str(config)])
    assert (args.target.players, args.target.shards, args.target.max_staleness_s) == (20_000_000, 30, 30.0)
    _, compare = parse_command(["compare", "--config", str(config)])
    assert compare.players == 50_000  # compare reads the top level and skips [target]
    _, flags = parse_command(["plan", "--config", str(config), "--target", "shards=5"])
    assert (flags.target.players, flags.target.shards) == (100_000_000, 5)  # the flag replaces the table


def test_plan_measures_three_runs_scaled_down_to_this_machine() -> None:
    runs = measurement(shards=30, players=20_000_000, strategies=("naive", "cached"))
    assert [(r.shards, r.players, r.rps) for r in runs] == [
        (MAX_SHARDS, MAX_PLAYERS, HIGH_RPS),
        (MAX_SHARDS, MAX_PLAYERS, LOW_RPS),
        (MAX_SHARDS // 2, MAX_PLAYERS, HIGH_RPS),
    ]
    assert runs[0].capacity_s > 0
    assert runs[1].capacity_s == 0
    assert runs[2].strategies == ("naive",)
    small = measurement(shards=3, players=5_000, strategies=("cached",))
    assert [(r.shards, r.players) for r in small] == [(3, 5_000), (3, 5_000)]


def point(rps: float, nodes: int = 6, commands: float = 1.0, **kw: Any) -> Point:
    """A phase costing 100 µs per request + 50 ms/s fixed (client), 20 µs per command + 2 ms/s per node."""
    fields = {
        "redis_cpu_s_per_s": 20e-6 * commands * rps + 0.002 * nodes,
        "client_cpu_s_per_s": 100e-6 * rps + 0.05,
        "idle_node_cpu_s_per_s": None,
        "client_idle_cpu_s_per_s": None,
    }
    fields.update(kw)
    return Point(rps, nodes, commands, **fields)


def test_two_rates_separate_the_fixed_cost_from_the_cost_per_request() -> None:
    client = client_fit([point(150), point(400)])
    assert client is not None
    assert client.terms == ("rps", "fixed")
    assert client.coefficients == pytest.approx((100e-6, 0.05))
    redis = redis_fit([point(150), point(400)])  # nothing idle measured: the nodes' 12 ms/s is fixed
    assert redis is not None
    assert redis.per_s({"commands_per_s": 1000.0, "fixed": 1.0, "nodes": 6.0}) == pytest.approx(0.032)


def test_one_rate_takes_the_fixed_cost_from_what_was_idle() -> None:
    one = point(400, idle_node_cpu_s_per_s=0.002, client_idle_cpu_s_per_s=0.05)
    assert client_fit([one]).coefficients == pytest.approx((100e-6, 0.05))  # type: ignore[union-attr]  # a fit
    assert redis_fit([one]).coefficients == pytest.approx((20e-6, 0.002))  # type: ignore[union-attr]  # a fit
    bare = client_fit([point(400)])  # nothing idle measured: proportional to the rate
    assert bare is not None
    assert bare.terms == ("rps",)


def test_naive_at_two_shard_counts_separates_the_cost_per_shard() -> None:
    def naive(rps: float, shards: int) -> Point:
        return point(rps, shards + 1, shards, client_cpu_s_per_s=(80e-6 + 30e-6 * shards) * rps + 0.05)

    fit = client_fit([naive(400, 10), naive(150, 10), naive(400, 5)])
    assert fit is not None
    assert fit.terms == ("rps", "fixed", "commands_per_s")
    assert fit.coefficients == pytest.approx((80e-6, 0.05, 30e-6))


def test_a_negative_coefficient_is_noise_and_its_term_is_dropped() -> None:
    fit = client_fit([point(150, client_cpu_s_per_s=0.02), point(400, client_cpu_s_per_s=0.01)])
    assert fit is not None
    assert fit.terms == ("fixed",)


def sample(**scenario: Any) -> dict[str, Any]:
    naive = strategy_entry(
        rps=400.0,
        redis_commands_per_request=10.0,
        bytes_out_per_request=24_000.0,
        bytes_in_per_request=500.0,
        client_cpu_us_per_request=1000.0,
        client_cpu_us_per_request_marginal=900.0,
        memory={"bytes_per_player": 80.0},
        per_node={f"shard-{i}": {"cpu_s": 1.0, "commands": 24_000, "ops_per_s": 400.0} for i in range(10)}
        | {"cache": {"cpu_s": 0.12, "commands": 0, "ops_per_s": 0.0}},
        latency_us_raw={"p50": 2000, "p99": 20_000},
    )
    cached = strategy_entry(
        rps=400.0,
        redis_commands_per_request=1.0,
        bytes_out_per_request=2_400.0,
        bytes_in_per_request=50.0,
        client_cpu_us_per_request=300.0,
        client_cpu_us_per_request_marginal=250.0,
        memory={"bytes_per_player": 80.0, "cache_key_bytes": 100_000},
        refresher={
            "interval_s": 60.0,
            "commands_per_refresh": 10.0,
            "duration_ms": {"p50": 500.0, "max": 900.0},
        },
        per_node={f"shard-{i}": {"cpu_s": 0.12, "commands": 1, "ops_per_s": 0.0} for i in range(10)}
        | {"cache": {"cpu_s": 0.6, "commands": 24_000, "ops_per_s": 400.0}},
        latency_us_raw={"p50": 300, "p99": 900},
    )
    return {
        "scenario": {"players": 200_000, "shards": 10, "top_n": 100, "cache_top_n": 1000, **scenario},
        "strategies": {"naive": naive, "cached": cached},
    }


def plan_for(target: Target, summary: dict[str, Any] | None = None) -> Any:
    return make_plan([measured(Path("no-such-run"), typed(summary or sample()))], target)


def test_the_plan_scales_naives_counts_with_the_shards_and_ram_with_the_players() -> None:
    plan = plan_for(dataclasses.replace(SEED, players=20_000_000, shards=30, rps=50_000))
    naive, cached = plan.strategies["naive"], plan.strategies["cached"]
    assert naive.commands_per_request == 30.0  # measured 10 at 10 shards
    assert naive.redis_queries_per_s == pytest.approx(30 * 50_000 + 50)  # reads + a write per 1,000
    assert naive.ram_per_shard_gb == pytest.approx(80 * 20_000_000 / 30 / 1e9)
    assert cached.redis_queries_per_s == pytest.approx(50_000 + 50 + 10 * 3 / 60)  # a refresh reads 30 shards
    assert cached.cache_node_ram_gb == pytest.approx(100_000 / 1e9)  # 1,000 entries as measured
    # 1 ms/s of idle CPU per node (60 ms over 60 s) is taken out of the busy nodes' CPU per command
    redis_us_per_command = (1.0 - 0.002 * 60) / 24_000 * 1e6
    assert cached.redis_cores == pytest.approx((0.6 - 0.12) / 24_000 * 50_050.05 + 0.002 * 31, rel=1e-3)
    assert naive.redis_cores == pytest.approx(
        redis_us_per_command / 1e6 * naive.redis_queries_per_s + 0.002 * 31, rel=1e-3
    )


def test_the_choice_is_the_cheapest_strategy_meeting_the_slo() -> None:
    plan = plan_for(dataclasses.replace(SEED, slo_p99_ms=5))
    assert not plan.strategies["naive"].meets_slo  # 20 ms measured p99 + the round trip
    assert plan.choice == "cached"
    assert plan.why[0].startswith("**cached** is the cheapest")
    assert plan.assumptions
    assert all(a.measured for a in plan.assumptions)


def test_costs_closer_than_reruns_agree_are_called_a_tie() -> None:
    plan = plan_for(dataclasses.replace(SEED, slo_p99_ms=5))
    cached = plan.strategies["cached"]
    assert cached.cost_cores is not None

    def why_with_naive_at(cost_cores: float) -> list[str]:
        naive = dataclasses.replace(
            plan.strategies["naive"], cost_cores=cost_cores, meets_slo=True, misses=[]
        )
        return _why({"cached": cached, "naive": naive}, cached, plan.target)

    edge = cached.cost_cores * (1 + TIE_FRACTION)
    assert any("a tie" in line for line in why_with_naive_at(edge * 0.99))
    assert not any("a tie" in line for line in why_with_naive_at(edge * 1.01))


def test_a_staleness_limit_under_the_interval_shortens_the_refresh() -> None:
    plan = plan_for(dataclasses.replace(SEED, max_staleness_s=30))
    cached = plan.strategies["cached"]
    assert cached.refresh_interval_s == 30.0
    assert cached.staleness_bound_s == pytest.approx(30.5)
    assert cached.meets_slo
    shortened = [line for line in plan.why if "every 30.0 s, not 60 s" in line]
    assert len(shortened) == 1  # one line names every strategy it shortened
    assert plan_for(SEED).strategies["cached"].refresh_interval_s == 60.0


@pytest.mark.parametrize(
    ("bound", "predicted", "values", "passed"),
    [
        ("exact", 10.0, [10.0, 10.0], True),
        ("exact", 10.0 * (1 + EXACT * 2), [10.0], False),
        ("within", 100.0 * (1 + WITHIN / 2), [100.0], True),
        ("within", 100.0 * (1 + WITHIN * 2), [100.0], False),
        ("spread", 3.0, [1.0, 2.0, 2.5], True),
        ("spread", 2.5 + SPREAD_FLOOR * 2, [1.0, 2.0, 2.5], False),
    ],
)
def test_validation_bounds(bound: str, predicted: float, values: list[float], passed: bool) -> None:
    quantity = next(q for q in QUANTITIES if q.bound == bound)
    assert _passes(quantity, predicted, values)[1] is passed
