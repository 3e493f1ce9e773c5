"""The network model: profiles, their files, the Monte Carlo composition and claim (a)'s verdict."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.figures.netmodel import Parts, cached_draws, naive_draws, project
from analysis.verdicts.claims import VERDICT_PROFILE, seed_claims
from analysis.verdicts.verdict import Verdict
from bench.wire.replytimes import ReplyTimes
from runfiles.rtt import BUILT_IN, CROSS_ZONE, LOOPBACK, ProfileError, RttProfile, parse_profile
from tests.unit.sample_summary import typed


def fixed(rtt_us: float) -> RttProfile:
    return RttProfile("fixed", (0.0, 1.0), (rtt_us, rtt_us))


def parts(shards: int = 3, fanouts: int = 50) -> Parts:
    send = np.tile(np.arange(shards, dtype=np.float64) * 5, (fanouts, 1))  # sockets sent 5 µs apart
    reply = np.full((fanouts, shards), 100.0)
    reply[:, -1] = 200.0  # the last socket is the slow one
    return Parts(send, reply, np.full(fanouts, 30.0), np.full(fanouts, 80.0))


def test_naive_is_the_slowest_socket_plus_the_round_trip_plus_the_merge() -> None:
    rng = np.random.default_rng(0)
    draws = naive_draws(parts(), fixed(1000.0), 3, rng)
    # The slowest socket is the last: sent at 10 µs, replying in 200 µs.
    assert np.allclose(draws, 1240.0)


def test_fewer_shards_keep_the_first_sockets_and_more_add_the_send_and_client_steps() -> None:
    rng = np.random.default_rng(0)
    assert np.allclose(naive_draws(parts(), LOOPBACK, 2, rng), 5 + 100 + 30)
    # Sockets are sent 5 µs apart and complete at 100, 105, 210 µs: a step of 55 µs. Three more sockets
    # delay every completion by their three sends (15 µs) and end three steps (165 µs) after the last.
    assert np.allclose(naive_draws(parts(), LOOPBACK, 6, rng), 210 + 3 * 5 + 3 * 55 + 30)


def test_cached_is_the_round_trip_plus_the_service_time() -> None:
    assert np.allclose(cached_draws(parts(), fixed(500.0), np.random.default_rng(0)), 580.0)


def test_the_max_of_more_round_trips_grows_the_tail() -> None:
    entry = project(parts(), CROSS_ZONE)
    by = {row["shards"]: row for row in entry["naive_by_shards"]}
    assert by[1]["p50"] < by[10]["p50"] < by[50]["p50"]
    assert by[50]["p50"] > CROSS_ZONE.at(0.9)  # the median request waits for a tail round trip


def test_projection_is_deterministic_with_its_seed() -> None:
    assert project(parts(), CROSS_ZONE, seed=3) == project(parts(), CROSS_ZONE, seed=3)
    assert project(parts(), CROSS_ZONE, seed=3) != project(parts(), CROSS_ZONE, seed=4)


def test_profile_draws_follow_the_quantiles() -> None:
    rtt = CROSS_ZONE.draw_us(np.random.default_rng(1), 100_000)
    assert np.percentile(rtt, 50) == pytest.approx(1000.0, rel=0.02)
    assert np.percentile(rtt, 99) == pytest.approx(2000.0, rel=0.02)
    assert set(BUILT_IN) == {"loopback", "same-zone", "cross-zone"}
    assert max(LOOPBACK.rtt_us) == 0


def test_profile_file_parses(tmp_path: Path) -> None:
    path = tmp_path / "dc.toml"
    path.write_text('source = "my pings"\n[rtt_ms]\np0 = 0.1\np50 = 0.25\n"p99.9" = 1.5\n')
    profile = parse_profile(path)
    assert profile.name == "dc"
    assert profile.quantiles == pytest.approx((0.0, 0.5, 0.999))
    assert profile.rtt_us == pytest.approx((100.0, 250.0, 1500.0))
    assert profile.source == "my pings"


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("[rtt_ms]\np50 = 1\n", "at least two quantiles"),
        ("[rtt_ms]\np50 = 1\nq99 = 2\n", "not a quantile"),
        ("[rtt_ms]\np50 = 1\np120 = 2\n", "not a quantile"),
        ("[rtt_ms]\np50 = 2\np99 = 1\n", "is below"),
        ('[rtt_ms]\np50 = 1\np99 = "x"\n', "not a round trip"),
        ("[rtt_ms]\np50 = -1\np99 = 1\n", "not a round trip"),
        ("rtt_ms = [", "not TOML"),
    ],
)
def test_bad_profile_files_say_why_in_one_line(tmp_path: Path, text: str, fault: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ProfileError, match=fault) as error:
        parse_profile(path)
    assert "\n" not in str(error.value)


def test_missing_profile_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read"):
        parse_profile(tmp_path / "none.toml")


def test_reply_times_turn_a_clock_into_offsets_and_durations() -> None:
    times = ReplyTimes(sample_every=10)
    # start, two sends, two replies (ns)
    times.add_scatter([1_000, 2_000, 4_000, 102_000, 205_000], 215_000)
    times.add_service(0, 90_000)
    row = times.drain()
    assert row == {
        "shard_send_us": [[1.0, 3.0]],
        "shard_reply_us": [[100.0, 201.0]],
        "merge_us": [10.0],
        "service_us": [90.0],
    }
    assert times.drain()["merge_us"] == []
    starts = {times.first_countdown() for _ in range(10)}
    assert starts <= set(range(1, 11))
    assert len(starts) > 5  # users' first samples spread out


def _summary(naive_p50_us: float) -> dict[str, object]:
    section = {"latency_us": {"p50": 700.0, "p99": 2000.0}, "valid": True}
    profile = {
        "rtt_us": {"p50": 1000.0, "p99": 2000.0},
        "naive_us": {"p50": naive_p50_us, "p99": naive_p50_us * 2},
        "cached_us": {"p50": 1100.0, "p99": 2100.0},
    }
    return {
        "strategies": {"naive": section, "cached": {**section, "latency_us": {"p50": 200.0, "p99": 500.0}}},
        "network": {"profiles": {VERDICT_PROFILE: profile}},
    }


def test_claim_a_is_judged_on_the_named_projection() -> None:
    claim = seed_claims(typed(_summary(2200.0)))[0]
    assert claim.verdict is Verdict.DOES_NOT_HOLD
    assert claim.projected.startswith(f"projection, {VERDICT_PROFILE} RTT profile")
    assert "naive p50 2.20 ms" in claim.projected
    assert VERDICT_PROFILE in claim.reason
    assert "projection" in claim.reason
    assert seed_claims(typed(_summary(12_000.0)))[0].verdict is Verdict.HOLDS


def test_claim_a_without_a_projection_stays_on_loopback() -> None:
    summary = _summary(2200.0)
    del summary["network"]
    claim = seed_claims(typed(summary))[0]
    assert claim.verdict is Verdict.DOES_NOT_HOLD
    assert "loopback" in claim.reason
