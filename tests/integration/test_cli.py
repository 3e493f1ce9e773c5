"""`lbbench` end to end: compare (local and external), top, refresh, seed, up, and bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bench.serverbinary import find_server_binary
from bench.topology.processes import LocalServers, free_port
from runfiles import SCHEMA_VERSION
from tests.browser import check_report
from tests.helpers import alive, reaped, started_processes

LBBENCH = [sys.executable, "-m", "lbbench"]


def lbbench(*args: str, timeout_s: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LBBENCH, *args], capture_output=True, text=True, timeout=timeout_s, check=False)


def closed_port_url() -> str:
    return f"redis://127.0.0.1:{free_port()}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compare", "--strategies", "naive,bogus"], "unknown strategy 'bogus'"),
        (["compare", "--players", "0"], "--players must be at least 1"),
        (["compare", "--duration", "0"], "--duration must be at least 1s, got 0s"),
        (
            ["compare", "--shard-url", "http://127.0.0.1:1", "--cache-url", "redis://127.0.0.1:2"],
            "bad Redis URL",
        ),
        (["compare", "--shard-url", "redis://127.0.0.1:1"], "needs both --shard-url"),
        (["compare", "--server-bin", "/nonexistent/redis-server"], "server binary not found"),
        (["compare", "--out", "/etc/hostname/run"], "cannot write to /etc/hostname/run"),
        (["top", "--strategy", "bogus"], "unknown strategy 'bogus'"),
        (["report", "/nonexistent-run"], "is not a run directory"),
        (["compare", "--players", "ten"], "not an integer"),
        (["compare", "--hot-write-share", "1.5"], "--hot-write-share must be between 0 and 1"),
        (["sweep", "rps", "--values", "500"], "at least two different values"),
        (["top", "--n", "0"], "--n must be at least 1, got 0"),
        (["compare", "--users", "-3"], "--users must be at least 1, got -3"),
        (["compare", "--seed", "-1"], "--seed must be at least 0, got -1"),
        (["compare", "--timeout-ms", "0"], "--timeout-ms must be positive"),
        (["compare", "--provider", "cloud"], "--provider must be one of"),
        (["compare", "--out", "/etc/hostname"], "--out names a file, not a directory: /etc/hostname"),
        (["compare", "--duration", "5 parsecs"], "--duration: not a time: '5 parsecs'"),
        (["compare", "--config", "/nonexistent.toml"], "--config: no such file: /nonexistent.toml"),
        (
            ["up", "--shard-url", "redis://127.0.0.1:1", "--cache-url", "redis://127.0.0.1:2"],
            "nothing to start",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    result = lbbench(*args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_unreachable_url_is_one_line_and_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = lbbench(
        "compare", "--shard-url", closed_port_url(), "--cache-url", closed_port_url(), "--out", str(out)
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1
    assert "cannot reach shard-0 at redis://127.0.0.1:" in result.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [], "nothing half-written"


def test_password_never_reaches_results_or_errors() -> None:
    result = lbbench(
        "top", "--shard-url", "redis://user:hunter2@127.0.0.1:1", "--cache-url", closed_port_url()
    )
    assert result.returncode == 2
    assert "hunter2" not in result.stderr
    assert "user:***@127.0.0.1" in result.stderr


SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "summary.schema.json").read_text())


def check_summary(run_dir: Path, shards: int) -> dict[str, dict[str, object]]:
    summary = json.loads((run_dir / "summary.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(summary)
    assert summary["schema_version"] == SCHEMA_VERSION == 4
    assert summary["run_id"]
    strategies = summary["strategies"]
    assert list(strategies) == ["naive", "cached"]
    for s in strategies.values():
        for field in (
            "requests",
            "failures",
            "duration_s",
            "rps",
            "latency_us",
            "redis_commands_per_request",
            "bytes_out_per_request",
            "bytes_in_per_request",
            "client_cpu_us_per_request",
            "redis_ops_per_s",
        ):
            assert field in s, field
        assert set(s["latency_us"]) >= {"p50", "p90", "p99", "p999", "max"}
        assert s["requests"] > 100
        assert s["failures"] == 0
        assert s["latency_us"]["p50"] <= s["latency_us"]["p99"] <= s["latency_us"]["max"]
    # Requests cut off by the stop may have reached some shards: allow 1% over, never under.
    assert shards <= strategies["naive"]["redis_commands_per_request"] <= shards * 1.01
    assert 1.0 <= strategies["cached"]["redis_commands_per_request"] <= 1.01
    assert strategies["cached"]["nodes_per_request"] == 1
    assert strategies["naive"]["nodes_per_request"] == shards
    assert strategies["cached"]["refresher"]["refreshes"] >= 2
    # Sorted-set members cost tens of bytes each; the cached top 1000 is a sliver of the shards.
    memory = strategies["cached"]["memory"]
    assert 30 < memory["bytes_per_player"] < 500
    assert 0 < memory["cache_vs_shards"] < 0.2
    assert memory["global_set_bytes"] is None
    # Each shard returns a top-100 reply of the same shape as the one cached read.
    assert (
        strategies["naive"]["bytes_out_per_request"]
        > 0.9 * shards * strategies["cached"]["bytes_out_per_request"]
    )
    report = (run_dir / "report.md").read_text()
    assert "Seed claims vs measured" in report
    for png in ("latency_cdf.png", "ops_per_node.png"):
        assert (run_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return strategies


def test_compare_local_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = lbbench(
        "compare",
        "--players",
        "20000",
        "--duration",
        "4",
        "--users",
        "4",
        "--shards",
        "4",
        "--refresh-interval",
        "1",
        "--capacity-s",
        "3",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("report.md")
    check_summary(out, shards=4)
    # The capacity probe's file is there either way: measured, or why not (docs/capacity.md).
    capacity = json.loads((out / "capacity.json").read_text())
    assert capacity["available"] or capacity["reason"]
    assert "## Per-node capacity" in (out / "report.md").read_text()
    meta = json.loads((out / "meta.json").read_text())
    assert meta["server"].split()[0] in {"redis-server", "valkey-server"}
    assert meta["git"].keys() == {"commit", "dirty", "branch"}
    assert meta["versions"]["locust"]
    # report.html: the answer first, every plot drawn, in a real browser, fetching nothing.
    page = check_report(out / "report.html", "compare", min_images=4)
    assert page.text.index("The answer") < page.text.index("Scenario")
    assert "Seed claims vs measured" in page.text
    # The report rebuilds from raw data alone.
    (out / "summary.json").unlink()
    (out / "report.md").unlink()
    (out / "report.html").unlink()
    rebuilt = lbbench("report", str(out))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert (out / "report.md").exists()
    assert (out / "report.html").exists()


def test_a_runs_scenario_toml_runs_the_same_scenario_again(tmp_path: Path) -> None:
    first, again = tmp_path / "first", tmp_path / "again"
    flags = ["--players", "5000", "--shards", "2", "--users", "3", "--rps", "100", "--seed", "5"]
    flags += ["--refresh-interval", "500ms", "--strategies", "cached"]
    # The deliberate slowdown gate_power.py measures with travels to the load process, into the
    # timed read, into the scenario file, and into the report's words.
    flags += ["--read-extra-cpu-us", "3000"]
    result = lbbench("compare", *flags, "--duration", "1s", "--out", str(first))
    assert result.returncode == 0, result.stderr
    scenario = first / "scenario.toml"
    assert 'refresh-interval = "500ms"' in scenario.read_text()
    cached = json.loads((first / "summary.json").read_text())["strategies"]["cached"]
    assert cached["latency_us_raw"]["p50"] >= 3000
    assert "Every read was slowed on purpose** by 3,000 µs" in (first / "report.md").read_text()
    result = lbbench("compare", "--config", str(scenario), "--duration", "2s", "--out", str(again))
    assert result.returncode == 0, result.stderr
    options = [json.loads((run / "meta.json").read_text())["options"] for run in (first, again)]
    assert (options[0].pop("duration_s"), options[1].pop("duration_s")) == (1.0, 2.0)
    assert (options[0].pop("out"), options[1].pop("out")) == (str(first), str(again))
    assert options[0] == options[1]
    assert (again / "scenario.toml").read_text() == scenario.read_text().replace('"1s"', '"2s"')


@pytest.fixture
def hand_started_servers() -> Iterator[LocalServers]:
    servers = LocalServers(find_server_binary(), [f"s{i}" for i in range(3)] + ["c"])
    servers.start()
    yield servers
    servers.stop()


def test_compare_external_keeps_servers_and_removes_only_its_keys(
    hand_started_servers: LocalServers, tmp_path: Path
) -> None:
    urls = [s.url for s in hand_started_servers.servers]
    user_key = redis.Redis.from_url(urls[0])
    user_key.set("users-own-key", "keep me")
    flags = [a for url in urls[:-1] for a in ("--shard-url", url)] + ["--cache-url", urls[-1]]
    out = tmp_path / "run"
    result = lbbench(
        "compare",
        *flags,
        "--players",
        "20000",
        "--duration",
        "4",
        "--users",
        "4",
        "--refresh-interval",
        "1",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    check_summary(out, shards=3)
    assert json.loads((out / "meta.json").read_text())["topology"]["provider"] == "external"
    for server in hand_started_servers.servers:
        assert server.process.poll() is None, "external servers must keep running"
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        assert client.keys("leaderboard*") == []
    assert user_key.get("users-own-key") == b"keep me"


# What the harness itself sends to servers it does not own during a naive-and-cached compare: seeding
# (RESTORE), the refresher (MULTI/ZADD/RENAME/HSET/EXEC), the reads, the staleness and rank probes
# (ZSCORE, ZCOUNT, HGET), telemetry (INFO, MEMORY USAGE, CONFIG GET) and the clean-up (EXISTS, DEL).
HARNESS_COMMANDS = {
    "config|get", "del", "exists", "exec", "hget", "hset", "info", "memory|usage", "multi", "rename",
    "restore", "zadd", "zcount", "zincrby", "zrange", "zscore",
}  # fmt: skip


def test_compare_on_servers_you_run_sends_only_its_own_commands_without_capacity_s(
    hand_started_servers: LocalServers, tmp_path: Path
) -> None:
    clients = [redis.Redis.from_url(s.url) for s in hand_started_servers.servers]
    for client in clients:
        client.config_resetstat()
    urls = [s.url for s in hand_started_servers.servers]
    flags = [a for url in urls[:-1] for a in ("--shard-url", url)] + ["--cache-url", urls[-1]]
    env = {key: value for key, value in os.environ.items() if key != "LBBENCH_CAPACITY_S"}
    out = tmp_path / "run"
    args = ["compare", *flags, "--players", "20000", "--duration", "2s", "--users", "4", "--out", str(out)]
    result = subprocess.run(
        [*LBBENCH, *args], capture_output=True, text=True, timeout=240, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "capacity: not measured: not run on servers the harness does not own" in result.stderr
    assert "redis-benchmark sends" not in result.stderr
    summary = json.loads((out / "summary.json").read_text())["strategies"]
    requests = {name: summary[name]["requests"] for name in ("naive", "cached")}
    for client, reads in zip(clients, [requests["naive"]] * 3 + [requests["cached"]], strict=True):
        stats = client.info("commandstats")
        sent = {key.removeprefix("cmdstat_"): value["calls"] for key, value in stats.items()}
        del sent["config|resetstat"]  # this test's own
        assert set(sent) <= HARNESS_COMMANDS, set(sent) - HARNESS_COMMANDS
        # The probe's redis-benchmark would add thousands of reads and hundreds of connections per node.
        assert sent["zrange"] <= reads * 1.05 + 100, sent
        assert client.info("stats")["total_connections_received"] < 100
    assert json.loads((out / "capacity.json").read_text())["available"] is False


def test_external_refuses_to_clobber_existing_keys(hand_started_servers: LocalServers) -> None:
    urls = [s.url for s in hand_started_servers.servers]
    redis.Redis.from_url(urls[1]).zadd("leaderboard", {"someone": 1})
    flags = [a for url in urls[:-1] for a in ("--shard-url", url)] + ["--cache-url", urls[-1]]
    result = lbbench("compare", *flags, "--players", "1000", "--duration", "1")
    assert result.returncode == 2
    assert "shard-1:leaderboard already exists" in result.stderr
    assert redis.Redis.from_url(urls[1]).zcard("leaderboard") == 1


@pytest.mark.parametrize("strategy", ["naive", "cached"])
def test_top_json(strategy: str) -> None:
    result = lbbench(
        "top", "--strategy", strategy, "--n", "5", "--json", "--players", "5000", "--shards", "3"
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 5
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    assert set(rows[0]) == {"player", "score"}


def test_top_is_the_same_for_both_strategies() -> None:
    args = ["--n", "20", "--json", "--players", "5000", "--shards", "3", "--seed", "9"]
    naive = json.loads(lbbench("top", "--strategy", "naive", *args).stdout)
    cached = json.loads(lbbench("top", "--strategy", "cached", *args).stdout)
    assert naive == cached


def test_refresh_and_seed_commands() -> None:
    refresh = lbbench("refresh", "--players", "5000", "--shards", "3")
    assert refresh.returncode == 0, refresh.stderr
    assert "refreshed 1000 entries" in refresh.stderr
    seeded = lbbench("seed", "--players", "5000", "--shards", "3")
    assert seeded.returncode == 0, seeded.stderr
    assert "seeded 5,000 players into 3 shards" in seeded.stderr
    assert "players/s" in seeded.stderr
    assert "bytes/player" in seeded.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_up_serves_until_signalled_then_stops_everything(sig: int) -> None:
    proc = subprocess.Popen(
        [*LBBENCH, "up", "--players", "5000", "--shards", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with reaped(proc):
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        assert lines[2].startswith("flags:"), lines
        cache_url = lines[1].split()[1]
        assert redis.Redis.from_url(cache_url).zcard("leaderboard:global:cache") == 1000
        os.kill(proc.pid, sig)
        assert proc.wait(timeout=30) == 130
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(cache_url, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)).ping()


def start_compare(out: Path) -> subprocess.Popen[str]:
    """A compare long enough to be interrupted in its load phase."""
    return subprocess.Popen(
        [*LBBENCH, "compare", "--players", "20000", "--duration", "60", "--users", "2", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_load_phase(proc: subprocess.Popen[str]) -> None:
    assert proc.stderr is not None
    for line in proc.stderr:
        if "1 Locust process, 60 s" in line:
            return
    pytest.fail("compare never reached its load phase")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_compare_stops_everything_and_writes_no_run(sig: int, tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = start_compare(out)
    with reaped(proc):
        wait_for_load_phase(proc)
        os.kill(proc.pid, sig)
        assert proc.wait(timeout=30) == 130
    assert list(tmp_path.iterdir()) == [], "no run directory, not even a .partial one"


def test_killed_compare_takes_servers_and_locust_along(tmp_path: Path) -> None:
    before = started_processes()
    proc = start_compare(tmp_path / "run")
    with reaped(proc):
        wait_for_load_phase(proc)
        deadline = time.monotonic() + 15
        children = started_processes() - before
        while len(children) < 12 and time.monotonic() < deadline:
            time.sleep(0.1)
            children = started_processes() - before
        assert len(children) == 12, "10 shards + cache + locust"
        proc.kill()  # SIGKILL: no finally runs; the parent-death signal must do the work
        proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        while alive(children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert alive(children) == set()


def test_sweep_over_shard_count_runs_each_point_on_that_many_shards(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    args = ["--values", "1,3", "--strategies", "naive", "--players", "3000", "--duration", "2"]
    result = lbbench("sweep", "shards", *args, "--rps", "100", "--out", str(out))
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out / "sweep.csv")
    assert table["value"].tolist() == [1, 3]
    # Naive sends one ZRANGE per shard: the swept shard count must reach the topology.
    assert table["redis_commands_per_request"].tolist() == [1.0, 3.0]
    assert (out / "sweep.png").is_file()
    assert (out / "points" / "shards=3" / "report.md").is_file()
    # The sweep's page and each point's open in a browser as they are.
    sweep_page = check_report(out / "report.html", "sweep")
    assert "redis_commands_per_request" in sweep_page.text
    check_report(out / "points" / "shards=3" / "report.html", "sweep-point", min_images=4)


def test_sweep_with_bad_values_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = lbbench("sweep", "shards", "--values", "1,x", "--out", str(out))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["lbbench: error: --values: 'x' is not a number for shards"]
    assert not out.exists()
    assert not out.with_name("sweep.partial").exists()
