"""A cache node paused for 1 s mid-run: the users are exhausted, the run stays valid, latency shows it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from bench.serverbinary import find_server_binary
from bench.topology.processes import LocalServers

RATE = 1000
USERS = 20
PAUSE_MS = 1000
# The load is running once the cache node served this many more commands than before the phase.
LOAD_SEEN_COMMANDS = 1000
LOAD_WAIT_S = 60.0
# A generator that shares 2 cores with other work can wake a few ms late now and then; the pause is 1 s.
NOISY_LAG_P99_US = 20_000


@pytest.fixture
def servers() -> Iterator[LocalServers]:
    """Two shards and a cache node the test can reach, started by hand so it knows the cache's port."""
    started = LocalServers(find_server_binary(), ["s0", "s1", "c"])
    started.start()
    yield started
    started.stop()


def _pause_once_loaded(cache: redis.Redis, run: subprocess.Popen[str]) -> float:
    """Wait until the load reaches the cache node, let it run ~1 s more, then pause every client."""
    baseline = int(cache.info("stats")["total_commands_processed"])
    deadline_s = time.monotonic() + LOAD_WAIT_S
    while int(cache.info("stats")["total_commands_processed"]) - baseline < LOAD_SEEN_COMMANDS:
        assert run.poll() is None, "lbbench ended before its load reached the cache node"
        assert time.monotonic() < deadline_s, "the load never reached the cache node"
        time.sleep(0.05)
    time.sleep(1.0)
    paused_at_s = time.time()
    cache.execute_command("CLIENT", "PAUSE", PAUSE_MS, "ALL")
    return paused_at_s


def test_a_server_stall_is_the_systems_lag_not_the_generators(servers: LocalServers, tmp_path: Path) -> None:
    shards, cache_server = servers.servers[:-1], servers.servers[-1]
    out = tmp_path / "run"
    cmd = [
        sys.executable, "-m", "lbbench", "compare",
        *(arg for s in shards for arg in ("--shard-url", s.url)), "--cache-url", cache_server.url,
        "--strategies", "cached", "--rps", str(RATE), "--users", str(USERS), "--duration", "6",
        "--players", "20000", "--read-write-ratio", "0",
        # Longer than the pause: a paused reply is late, not a timeout (the sampler's included).
        "--timeout-ms", "3000", "--out", str(out),
    ]  # fmt: skip
    cache = redis.Redis.from_url(cache_server.url)
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as run:
        try:
            paused_at_s = _pause_once_loaded(cache, run)
            _, stderr = run.communicate(timeout=300)
        finally:
            if run.poll() is None:
                run.kill()
                run.communicate()
        cache.close()
    assert run.returncode == 0, stderr
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    cached = summary["strategies"]["cached"]
    assert cached["failures"] == 0
    # The pause is in the corrected latency and in the schedule lag...
    assert cached["latency_us"]["p99"] >= 500_000
    assert cached["schedule_lag_us"]["p99"] >= 500_000
    # ...but not in the generator's own lag: every user was waiting on the paused node.
    own_lag_p99_us = cached["generator_lag_us"]["p99"]
    assert own_lag_p99_us <= NOISY_LAG_P99_US
    if own_lag_p99_us <= cached["guard_limits"]["lag_p99_limit_us"]:
        assert cached["valid"] is True, cached["invalid_reason"]
        assert cached["schedule_lag_cause"] == "users_exhausted"
    else:  # other work on a shared machine delayed the generator: its own lag, reported as such
        assert cached["invalid_reason"].startswith("generator lag p99 ")
    exhausted = cached["users_exhausted"]
    assert (exhausted["in_flight_max"], exhausted["users"]) == (USERS, USERS)
    # When: within the pause, on the load window's clock.
    load_start_s = min(w["t_start_s"] for w in json.loads((out / "raw/cached/workers.json").read_text()))
    # (A user's first request connects, so a few reads at the window's start may find all users busy.)
    stall = max(exhausted["episodes"], key=lambda e: e["requests"])
    assert stall["from_s"] == pytest.approx(paused_at_s - load_start_s, abs=0.2)
    # It ends once the backlog the pause left (RATE x PAUSE requests) is sent, which takes the generator
    # at least its CPU per request for each (CI: 0.25 s at ~250 µs of client CPU per cached read).
    resumed_s = paused_at_s - load_start_s + PAUSE_MS / 1000
    catch_up_s = RATE * PAUSE_MS / 1000 * cached["client_cpu_us_per_request"] / 1e6
    assert resumed_s - 0.2 <= stall["to_s"] <= resumed_s + catch_up_s + 0.2
    assert stall["requests"] >= 0.5 * RATE * PAUSE_MS / 1000
    report = (out / "report.md").read_text()
    assert "- **cached**: all users were busy (in-flight limit of 20 users reached" in report
    if cached["valid"]:
        assert "Warning" not in report
        assert "That is the system being slow, not the generator" in report
