"""Verdicts on the seed's qualitative lines (synthetic summaries, no servers)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.figures.commandtime import command_us_per_request
from analysis.verdicts.tradeoffs import tradeoff_claims
from analysis.verdicts.verdict import Verdict
from tests.unit.sample_summary import strategy_entry, typed, with_plan


def verdicts(summary: dict[str, Any]) -> dict[str, Verdict]:
    return {c.key: c.verdict for c in tradeoff_claims(with_plan(summary))}


def test_every_qualitative_line_gets_a_verdict(summary: dict[str, Any]) -> None:
    claims = tradeoff_claims(typed(summary))
    assert [c.key for c in claims] == list("ijklmnopqrstuv")
    assert all(c.measured for c in claims)


def test_staleness_bound_holds_within_the_interval_and_fails_beyond(summary: dict[str, Any]) -> None:
    assert verdicts(summary)["j"] == Verdict.HOLDS  # max age 60 s, interval 60 s
    summary["strategies"]["cached"]["staleness"]["cache_age_s"]["max"] = 75.0
    assert verdicts(summary)["j"] == Verdict.DOES_NOT_HOLD


def test_not_real_time_needs_an_observed_difference(summary: dict[str, Any]) -> None:
    assert verdicts(summary)["m"] == Verdict.HOLDS
    stale = summary["strategies"]["cached"]["staleness"]
    stale["share_of_samples_differing"] = 0.0
    assert verdicts(summary)["m"] == Verdict.HOLDS  # ranks and scores still lag
    stale["max_rank_displacement"]["max"] = 0
    stale["max_score_error"] = 0.0
    # No write reached the top n: nothing could be seen late, so the run cannot judge the claim.
    claim = next(c for c in tradeoff_claims(with_plan(summary)) if c.key == "m")
    assert claim.verdict == Verdict.NOT_MEASURABLE
    assert "--read-write-ratio" in claim.reason


def test_conditions_are_holds_only_if_with_the_measured_price(summary: dict[str, Any]) -> None:
    claims = {c.key: c for c in tradeoff_claims(typed(summary))}
    assert claims["n"].verdict == Verdict.HOLDS_ONLY_IF
    assert "up to 6 wrong entries" in claims["n"].reason
    assert "off by up to 12" in claims["n"].reason
    assert claims["p"].verdict == Verdict.HOLDS_ONLY_IF
    assert "11 commands" in claims["p"].measured  # ZSCORE + 10 ZCOUNTs


def test_memory_is_judged_at_the_seeds_players_from_the_bytes_per_player(summary: dict[str, Any]) -> None:
    # 50,000 players: the cache is 2.1% of the shards here, 0.0011% at 100M players.
    memory = {"shard_key_bytes": 4_200_000, "cache_key_bytes": 88_000, "cache_vs_shards": 0.021}
    summary["strategies"]["cached"]["memory"] = {**memory, "bytes_per_player": 84.0}
    summary["scenario"]["players"] = 50_000
    claim = next(c for c in tradeoff_claims(with_plan(summary)) if c.key == "l")
    assert claim.verdict == Verdict.HOLDS  # was "does not hold: over 1% of the shards"
    assert "0.0010% of the shards" in claim.reason
    assert "2.100% of the shards' keys here (50,000 players)" in claim.measured
    # A cache as big as 1% of 100M players' shards (84 MB) is not negligible.
    summary["strategies"]["cached"]["memory"]["cache_key_bytes"] = 90_000_000
    assert verdicts(summary)["l"] == Verdict.DOES_NOT_HOLD


def test_acceptable_staleness_says_when_no_entry_was_wrong(summary: dict[str, Any]) -> None:
    stale = summary["strategies"]["cached"]["staleness"]
    stale["entries_differ"]["max"] = 0
    stale["max_rank_displacement"]["max"] = 0
    claim = next(c for c in tradeoff_claims(with_plan(summary)) if c.key == "n")
    assert claim.verdict == Verdict.HOLDS_ONLY_IF
    assert "no entry of the top n was wrong" in claim.reason
    assert "up to 0 wrong entries" not in claim.reason


def test_alternatives_are_judged_when_their_strategy_ran(summary: dict[str, Any]) -> None:
    absent = verdicts(summary)
    assert absent["s"] == absent["t"] == absent["u"] == Verdict.NOT_MEASURABLE
    stale = summary["strategies"]["cached"]["staleness"]
    summary["strategies"]["incremental"] = strategy_entry(
        staleness={**stale, "entries_differ": {"mean": 0.1, "p95": 1, "max": 1}},
        writes={"requests": 10, "commands_per_write": 3.0},
    )
    summary["strategies"]["global"] = strategy_entry(
        memory={"bytes_per_player": 84.0, "global_set_bytes": 84_000_000}
    )
    summary["strategies"]["regional"] = strategy_entry(redis_commands_per_request=2.0, nodes_per_request=11)
    present = verdicts(summary)
    assert present["s"] == Verdict.HOLDS  # fresher than cached (0.1 < 1.5 entries)
    assert present["t"] == Verdict.HOLDS_ONLY_IF
    assert present["u"] == Verdict.HOLDS
    global_claim = next(c for c in tradeoff_claims(with_plan(summary)) if c.key == "t")
    assert "8.4 GB on one node" in global_claim.projected  # 84 B/player x 100M


def test_peak_traffic_holds_only_when_measured_at_10k(summary: dict[str, Any]) -> None:
    assert verdicts(summary)["q"] == Verdict.HOLDS  # the sample cached entry: 10,000 req/s, valid
    summary["strategies"]["cached"]["rps"] = 5000.0
    assert verdicts(summary)["q"] == Verdict.NOT_MEASURABLE


def test_command_time_leaves_out_harness_calls_and_setup_commands() -> None:
    stats = pd.DataFrame(
        [
            (0.0, "shard-0", "zrange", 0, 0),
            (0.0, "shard-0", "info", 5, 500),
            (1.0, "shard-0", "zrange", 110, 2200),  # 100 workload calls + 10 probe calls, 20 µs each
            (1.0, "shard-0", "info", 6, 600),
        ],
        columns=["t_s", "node", "command", "calls", "usec"],
    )
    nodes = pd.DataFrame({"t_s": [0.0, 1.0], "node": ["shard-0"] * 2, "workload_commands": [0, 100]})
    assert command_us_per_request(stats, nodes, attempts=100) == 20.0
