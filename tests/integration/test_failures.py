"""Failures show up as what they are: a stall is a timeout, a runtime failure exits 1, nothing leaks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import redis

from bench.keys import Keys
from bench.seeding.seed import clear, existing_keys, seed
from bench.serverbinary import find_server_binary
from bench.strategies import get_strategy
from bench.topology import Endpoint, Topology, TopologyOptions, open_topology
from bench.topology.processes import LocalServers, free_port
from tests.helpers import set_child_subreaper, started_processes

LBBENCH = [sys.executable, "-m", "lbbench"]


def pid_listening_on(port: int) -> int:
    """The process of ours that listens on ``port`` on 127.0.0.1."""
    for proc in psutil.Process().children(recursive=True):
        if _listens(proc, port):
            return proc.pid
    raise AssertionError(f"nobody of ours listens on port {port}")


def port_of(endpoint: Endpoint) -> int:
    return int(endpoint.url.rsplit(":", 1)[1])


@pytest.fixture
def stalled_shard_topology(server_bin: str) -> Iterator[tuple[Topology, int]]:
    """Two seeded shards with a 200 ms timeout; yields the topology and shard-0's PID, SIGSTOPped."""
    options = TopologyOptions(shards=2, server_bin=server_bin, timeout_ms=200)
    with open_topology(options) as topology:
        seed(topology, Keys(), 2_000, 1)
        pid = pid_listening_on(port_of(topology.shards[0]))
        os.kill(pid, signal.SIGSTOP)
        try:
            yield topology, pid
        finally:
            os.kill(pid, signal.SIGCONT)


def test_a_stalled_shard_is_a_timeout_after_timeout_ms_not_a_hang(
    stalled_shard_topology: tuple[Topology, int],
) -> None:
    topology, _ = stalled_shard_topology
    # The kernel still accepts connections for a stopped server: only the command times out.
    strategy = get_strategy("naive")(topology, Keys())
    try:
        started = time.perf_counter()
        with pytest.raises(redis.TimeoutError):
            strategy.top(100)
        elapsed_s = time.perf_counter() - started
    finally:
        strategy.close()
    # redis-py's defaults (5 s socket timeout, 10 retries on clients) would take 5 s or more.
    assert elapsed_s < 2.0


def test_harness_clients_follow_the_policy_too(stalled_shard_topology: tuple[Topology, int]) -> None:
    topology, _ = stalled_shard_topology
    client = topology.shards[0].client()
    try:
        assert client.get_retry() is not None
        assert client.get_retry().get_retries() == 0  # type: ignore[union-attr]
        assert client.connection_pool.connection_kwargs["socket_timeout"] == 0.2
        with pytest.raises(redis.TimeoutError):
            client.ping()
    finally:
        client.close()


def test_cli_reports_a_stalled_url_in_one_line_within_the_timeout(server_bin: str) -> None:
    servers = LocalServers(find_server_binary(server_bin), ["s0", "s1", "c"])
    started = servers.start()
    try:
        pid = pid_listening_on(started[0].port)
        os.kill(pid, signal.SIGSTOP)
        flags = ["--shard-url", started[0].url, "--shard-url", started[1].url, "--cache-url", started[2].url]
        began = time.perf_counter()
        result = subprocess.run(
            [*LBBENCH, "top", "--strategy", "naive", *flags, "--timeout-ms", "300"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        elapsed_s = time.perf_counter() - began
        os.kill(pid, signal.SIGCONT)
    finally:
        servers.stop()
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "cannot reach shard-0" in result.stderr
    assert "Timeout" in result.stderr
    assert elapsed_s < 15, "measured 37.8 s with redis-py's default retries and no timeout"


@pytest.fixture
def external_servers(server_bin: str) -> Iterator[list[str]]:
    servers = LocalServers(find_server_binary(server_bin), ["s0", "s1", "c"])
    started = servers.start()
    yield [s.url for s in started]
    servers.stop()


def external_flags(urls: list[str]) -> list[str]:
    return [a for url in urls[:-1] for a in ("--shard-url", url)] + ["--cache-url", urls[-1]]


def test_runtime_failures_exit_1_not_2(external_servers: list[str]) -> None:
    # Empty external shards: the flags are fine, the data is not what a refresh needs.
    result = subprocess.run(
        [*LBBENCH, "refresh", *external_flags(external_servers)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == "lbbench: failed: the shards hold no players: run `lbbench seed` first"


def test_a_spawned_server_that_dies_is_a_failed_run_not_bad_input(tmp_path: Path) -> None:
    fake = tmp_path / "fake-server"
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = --version ]; then echo "Redis server v=9.9.9 sha=0"; exit 0; fi\n'
        'while [ "$1" != --logfile ]; do shift; done\n'
        'echo "FATAL: out of luck" > "$2"; exit 3\n'
    )
    fake.chmod(0o755)
    result = subprocess.run(
        [*LBBENCH, "seed", "--server-bin", str(fake), "--shards", "2", "--players", "10"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("lbbench: failed: ")
    assert "exited with code 3: FATAL: out of luck" in result.stderr


def connected_clients(url: str) -> int:
    with redis.Redis.from_url(url) as admin:
        return int(admin.info("clients")["connected_clients"])


def test_key_checks_close_their_clients_when_a_command_fails(external_servers: list[str]) -> None:
    # A user whose ACL forbids EXISTS and DEL: every harness key check fails on the first node.
    for url in external_servers:
        with redis.Redis.from_url(url) as admin:
            admin.acl_setuser(
                "limited", enabled=True, passwords=["+pw"], keys=["*"], commands=["+@all", "-exists", "-del"]
            )
    limited = [url.replace("redis://", "redis://limited:pw@") for url in external_servers]
    shards = [Endpoint(f"shard-{i}", "shard", url) for i, url in enumerate(limited[:-1])]
    topology = Topology("external", shards, Endpoint("cache", "cache", limited[-1]), owns_data=False)
    before = [connected_clients(url) for url in external_servers]
    with pytest.raises(redis.ResponseError, match="exists"):
        existing_keys(topology, Keys())
    with pytest.raises(redis.ResponseError, match="del"):
        clear(topology, Keys())
    # The failed calls' clients are closed, not left connected until garbage collection.
    assert [connected_clients(url) for url in external_servers] == before


def test_leftover_check_counts_only_what_this_test_started(server_bin: str) -> None:
    port = free_port()
    # Started as an unrelated program would be: orphaned at once and adopted by init, not by us.
    set_child_subreaper(False)
    try:
        subprocess.run(
            ["sh", "-c", f"{server_bin} --port {port} --bind 127.0.0.1 --save '' >/dev/null 2>&1 &"],
            check=True,
        )
    finally:
        set_child_subreaper(True)
    stranger = None
    deadline = time.monotonic() + 10
    while stranger is None and time.monotonic() < deadline:
        stranger = next(
            (
                p.pid
                for p in psutil.process_iter(["name"])
                if p.info["name"] and "server" in p.info["name"] and _listens(p, port)
            ),
            None,
        )
        time.sleep(0.05)
    assert stranger is not None
    try:
        assert stranger not in started_processes()
    finally:
        os.kill(stranger, signal.SIGKILL)


def _listens(proc: psutil.Process, port: int) -> bool:
    try:
        return any(c.laddr.port == port and c.status == psutil.CONN_LISTEN for c in proc.net_connections())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
